// Small charts drawn in SVG: one bar a minute over the last hour.  The SVG's label says
// in words what the bars show, for those who do not see them.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 600;
const HEIGHT = 80;

function node(tag, attributes) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}

/** Draw *buckets* ([start, calls, waiting] a minute) as bars of column *index* on *svg*,
 * *minutes* wide, the newest on the right.  Returns the newest value. */
export function bars(svg, buckets, index, minutes, what) {
  const values = buckets.slice(-minutes).map((bucket) => bucket[index]);
  const peak = Math.max(1, ...values);
  const slot = WIDTH / minutes;
  const offset = minutes - values.length;
  const shapes = [node("line", { x1: 0, y1: HEIGHT - 0.5, x2: WIDTH, y2: HEIGHT - 0.5, class: "axis" })];
  values.forEach((value, i) => {
    if (!value) return;
    const height = Math.max(2, (value / peak) * (HEIGHT - 6));
    shapes.push(node("rect", {
      x: (offset + i) * slot + 1, y: HEIGHT - height, width: Math.max(1, slot - 2), height,
      class: i === values.length - 1 ? "bar now" : "bar",
    }));
  });
  svg.replaceChildren(...shapes);
  const latest = values.length ? values[values.length - 1] : 0;
  const highest = values.length ? Math.max(...values) : 0;
  svg.setAttribute("aria-label", `${what} over the last hour: ${latest} this minute, at most ${highest}`);
  return latest;
}

"""The orchestration server's directory of people and places: which agent has which
skills at which level, which agents make an agent group, which DNs a place group.  Pure.

It comes from `[orchestration]` (DirectorySettings) and changes at run time through
`reload` or the REST interface (rest.py); what the T-Library tells about agents (who is
logged in where, Ready or not) is the AgentBoard's business (agents.py), not this one's.

Rule 1: an agent belongs to the groups its profile names and to the groups that list it.
Rule 2: the set of skill names is the union of every agent's skills; it decides which
names of a skill expression are skills (skills.py, Rule 1).  A change to the directory
changes it, so every cached evaluation is dropped at each change (`version` moves on).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace

from ctiserver.orchestration.settings import AgentProfile, DirectorySettings, SkillLevel
from ctiserver.orchestration.skills import SkillExpression, parse_skill_expression

_NO_SKILLS: Mapping[str, SkillLevel] = {}


class Directory:
    """See the module docstring.  `version` changes at every change."""

    def __init__(self, settings: DirectorySettings | None = None) -> None:
        self.version = 0
        self._settings = settings or DirectorySettings()
        self._groups: dict[str, frozenset[str]] = {}
        self._skill_names: frozenset[str] = frozenset()
        self._expressions: dict[str, SkillExpression] = {}
        self._matching: dict[str, tuple[frozenset[str], bool]] = {}
        self._thresholds: dict[str, SkillExpression] = {}
        self._index()

    @property
    def settings(self) -> DirectorySettings:
        return self._settings

    # --- queries --------------------------------------------------------------------------

    def skills(self, agent_id: str) -> Mapping[str, SkillLevel]:
        profile = self._settings.agents.get(agent_id)
        return profile.skills if profile is not None else _NO_SKILLS

    def skill_names(self) -> frozenset[str]:
        return self._skill_names

    def group(self, name: str) -> frozenset[str] | None:
        """The agents of the agent group *name*, or None when there is no such group."""
        return self._groups.get(name)

    def place_group(self, name: str) -> tuple[str, ...] | None:
        """The DNs of the place group *name*, or None when there is no such group."""
        return self._settings.place_groups.get(name)

    def expression(self, text: str) -> SkillExpression:
        """*text* parsed against today's skill names.  Raises SkillExpressionError."""
        found = self._expressions.get(text)
        if found is None:
            found = self._expressions[text] = parse_skill_expression(text, self._skill_names)
        return found

    def threshold(self, text: str, statistics: Collection[str]) -> SkillExpression:
        """A threshold: *text* parsed with *statistics* and the skills as its names."""
        found = self._thresholds.get(text)
        if found is None:
            names = {*statistics, *self._skill_names}
            found = self._thresholds[text] = parse_skill_expression(text, names)
        return found

    def matches(self, text: str, agent_id: str) -> bool:
        """True when the agent's skills satisfy the skill expression *text*.

        The agents that do are computed once per expression and directory version, so
        that choosing among thousands of agents costs a set look-up each.
        """
        found = self._matching.get(text)
        if found is None:
            expression = self.expression(text)
            agents = self._settings.agents
            members = frozenset(a for a, p in agents.items() if expression.matches(p.skills))
            found = self._matching[text] = (members, expression.matches(_NO_SKILLS))
        members, unskilled = found
        return agent_id in members or (unskilled and agent_id not in self._settings.agents)

    # --- changes --------------------------------------------------------------------------

    def replace(self, settings: DirectorySettings) -> None:
        """Take a whole new directory (reload)."""
        self._settings = settings
        self._index()

    def set_agent(self, agent_id: str, profile: AgentProfile) -> None:
        agents = {**self._settings.agents, agent_id: profile}
        self.replace(replace(self._settings, agents=agents))

    def remove_agent(self, agent_id: str) -> bool:
        if agent_id not in self._settings.agents:
            return False
        agents = {k: v for k, v in self._settings.agents.items() if k != agent_id}
        self.replace(replace(self._settings, agents=agents))
        return True

    def set_agent_group(self, name: str, agents: tuple[str, ...]) -> None:
        groups = {**self._settings.agent_groups, name: agents}
        self.replace(replace(self._settings, agent_groups=groups))

    def set_place_group(self, name: str, dns: tuple[str, ...]) -> None:
        groups = {**self._settings.place_groups, name: dns}
        self.replace(replace(self._settings, place_groups=groups))

    def _index(self) -> None:
        groups = {name: set(ids) for name, ids in self._settings.agent_groups.items()}
        names: set[str] = set()
        for agent_id, profile in self._settings.agents.items():
            names.update(profile.skills)
            for group in profile.groups:
                groups.setdefault(group, set()).add(agent_id)
        self._groups = {name: frozenset(ids) for name, ids in groups.items()}
        self._skill_names = frozenset(names)
        self._expressions.clear()
        self._matching.clear()
        self._thresholds.clear()
        self.version += 1

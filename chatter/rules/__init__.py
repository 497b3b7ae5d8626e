"""Rules: the condition language (``when`` of a rule) and rule sets whose first matching rule
decides what runs (routing rule files)."""

from chatter.rules.conditions import Condition, parse_condition
from chatter.rules.rule_file import THEN_KEYS, load_rules
from chatter.rules.ruleset import Rule, RuleSet

__all__ = ["THEN_KEYS", "Condition", "Rule", "RuleSet", "load_rules", "parse_condition"]

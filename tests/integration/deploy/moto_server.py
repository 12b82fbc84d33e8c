"""`moto_server` on 127.0.0.1, with one fix for what moto 5.x leaves out of change sets.

Run as `python -m tests.integration.deploy.moto_server PORT`. Moto executes a change set
by creating or updating the resources, but (checked on moto 5.2.5) it does not read the
template's Outputs section again, does not record the new parameters and does not parse the
new template for the stack, so a stack made by a change set has no outputs and the next
change set compares against stale parameters. CloudFormation does all three. The patch
below does them after moto's own execute_change_set and changes nothing else.
"""

from __future__ import annotations

import sys
from typing import Any

from moto.cloudformation.models import CloudFormationBackend
from moto.server import main

_execute = CloudFormationBackend.execute_change_set


def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
    _execute(self, change_set_name, stack_name)
    change_set = self.describe_change_set(change_set_name)
    stack = self.stacks[change_set.stack_id]
    stack._parse_template()
    stack.parameters = change_set.parameters
    stack.description = stack.template_dict.get("Description")
    stack.output_map = stack._create_output_map()
    for export in stack.exports:
        self.exports[export.name] = export


CloudFormationBackend.execute_change_set = execute_change_set  # type: ignore[method-assign]

if __name__ == "__main__":
    main(["-H", "127.0.0.1", "-p", sys.argv[1]])

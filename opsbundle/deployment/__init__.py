"""The deployment tooling: what builds, prices and deploys the bundle, on a laptop or in
CodeBuild, and never inside a Lambda (`make package` leaves this folder out of every zip).

- `packaging`: one reproducible zip per Lambda (`make package`);
- `stacks`: the parameter files and templates, as a checked plan of stacks in dependency order;
- `changesets`: CloudFormation change sets made, shown, executed and waited for;
- `deploy`: the run (`opsbundle deploy`): credentials, the artifacts bucket, uploads, each stack;
- `cli`: `opsbundle deploy` and `opsbundle cost`;
- `cost`: the monthly bill estimate;
- `report_stack`: the report stack rendered from the reports file (a schedule per report);
- `iam_policies`: the templates' IAM policies resolved, and an evaluator of IAM's condition
  operators, for the linters and the tests.
"""

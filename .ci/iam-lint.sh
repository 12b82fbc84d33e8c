#!/usr/bin/env bash
# parliament (an IAM linter that knows privilege-escalation paths) over every identity policy
# of the templates, resolved for the prod parameter file (every stack, audit and access too)
# by opsbundle.deployment.iam_policies.
# Some policies are reviewed by hand, each set with its own config saying which findings are
# there on purpose and why (parliament 1.6's ignore_locations cannot match a file): the
# deploy role's, CodePipeline's and the access stack's group policies. Every other policy
# gets every check.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(.ci/cfn-tools.sh)
dir=.cache/iam-policies
.venv/bin/python -m opsbundle.deployment.iam_policies "$dir/all" --env prod
status=0
lint() {  # directory, parliament arguments...
  "$bin/parliament" --directory "$1" --include_policy_extension json \
    --include-community-auditors --minimum_severity MEDIUM "${@:2}" || status=1
}
for reviewed in deploy-role:pipeline.PipelineDeployRole pipeline-role:pipeline.PipelineRole; do
  name=${reviewed%%:*}
  rm -rf "${dir:?}/$name" && mkdir -p "$dir/$name"
  mv "$dir/all/${reviewed#*:}".*.json "$dir/$name/"
  lint "$dir/$name" --config ".ci/parliament-$name.yaml"
done
rm -rf "${dir:?}/access" && mkdir -p "$dir/access"
mv "$dir"/all/access.*.json "$dir/access/"
lint "$dir/access" --config .ci/parliament-access.yaml
lint "$dir/all"
exit $status

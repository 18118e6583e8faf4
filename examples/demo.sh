#!/usr/bin/env bash
# make demo: validate every bundled example policy with its policy type, then
# decide the bundled scenarios with their explanations, prove a refactor,
# catch a widening, and ask what can ever be allowed.
# Usage: examples/demo.sh PATH/TO/iamlogic
set -u
iamlogic=${1:-iamlogic}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
echo "### Validating policies"
echo
for dir in examples/policies/*/; do
  type=$(basename "$dir")
  for file in "$dir"*.json; do
    echo "== iamlogic validate --policy-type $type $file"
    "$iamlogic" validate --policy-type "$type" "$file"
    status=$?
    case $status in
      0) echo "   exit 0: nothing blocking" ;;
      2) echo "   exit 2: blocking findings (this example is broken on purpose)" ;;
      *) echo "   exit $status: unexpected"; exit 1 ;;
    esac
    echo
  done
done
echo "### Deciding requests"
echo
for file in examples/scenarios/*.json; do
  echo "== iamlogic simulate --explain $file"
  "$iamlogic" simulate --explain "$file" || { echo "   unexpected failure"; exit 1; }
  echo
done
echo "### Proving refactors"
echo
echo "== iamlogic equivalent examples/refactor/before.json examples/refactor/after-safe.json"
"$iamlogic" equivalent examples/refactor/before.json examples/refactor/after-safe.json
echo "   exit $?: 0 means proven equivalent"
echo
echo "== iamlogic check-no-new-access --existing examples/refactor/before.json --new examples/refactor/after-widened.json"
"$iamlogic" check-no-new-access --existing examples/refactor/before.json --new examples/refactor/after-widened.json
echo "   exit $?: 2 means new access, shown by the witness"
echo
echo "== iamlogic check-no-new-access --existing examples/variables/whole-share.json --new examples/variables/home-folders.json"
"$iamlogic" check-no-new-access --existing examples/variables/whole-share.json --new examples/variables/home-folders.json
echo "   exit $?: 0 means proven, whatever each user's name"
echo
echo "== iamlogic check-no-new-access --existing examples/variables/home-folders.json --new examples/variables/whole-share.json"
"$iamlogic" check-no-new-access --existing examples/variables/home-folders.json --new examples/variables/whole-share.json
echo "   exit $?: 2 means new access: a user outside its own folder"
echo
echo "### Asking what can ever be allowed"
echo
for file in examples/questions/*.json; do
  echo "== iamlogic can-be-allowed $file"
  "$iamlogic" can-be-allowed "$file"
  echo "   exit $?: 0 proven never, 2 allowed (the witness)"
  echo
done
echo "== iamlogic check-no-public-access examples/policies/resource/website-bucket.json --resource-type AWS::S3::Bucket"
"$iamlogic" check-no-public-access examples/policies/resource/website-bucket.json --resource-type AWS::S3::Bucket
echo "   exit $?: 2 means public (aws:Referer is sent by the caller: it restricts nothing)"
echo
echo "### Asking an organization (examples/organization: 3 accounts, 22 roles, SCPs, RCPs, a bucket and a key)"
echo
echo "== iamlogic who-can s3:GetObject arn:aws:s3:::prod-data/analytics/q3.csv --account-data examples/organization --context '{\"aws:RequestedRegion\": \"eu-west-1\", \"aws:SecureTransport\": true}'"
"$iamlogic" who-can s3:GetObject arn:aws:s3:::prod-data/analytics/q3.csv --account-data examples/organization \
  --context '{"aws:RequestedRegion": "eu-west-1", "aws:SecureTransport": true}'
echo "   the sandbox's Analytics role reads across accounts through the bucket policy"
echo
echo "== iamlogic reach arn:aws:iam::111111111111:user/alice --account-data examples/organization --to arn:aws:iam::222222222222:role/KeyAdmin"
"$iamlogic" reach arn:aws:iam::111111111111:user/alice --account-data examples/organization \
  --to arn:aws:iam::222222222222:role/KeyAdmin
echo "   exit $?: 0 reachable, each hop with the statements that allow it"
echo
echo "== iamlogic privesc arn:aws:iam::444444444444:user/m-attachrolepolicy --account-data examples/escalation"
"$iamlogic" privesc arn:aws:iam::444444444444:user/m-attachrolepolicy --account-data examples/escalation
echo "   exit $?: 2 found — attach AdministratorAccess to a role it may assume, then assume it"

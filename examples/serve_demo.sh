#!/usr/bin/env bash
# make demo, the service part: a server on a temporary database, a user
# created with the AWS CLI, denied (with the decision log's explanation),
# a policy attached, allowed; then the server is stopped.
# Usage: examples/serve_demo.sh PATH/TO/iamlogic PATH/TO/aws
set -u
iamlogic=${1:-iamlogic}
aws=${2:-aws}
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
echo "### IAM, served: iamlogic serve"
echo
echo "== iamlogic account create --db $dir/iam.db --account-id 123456789012"
"$iamlogic" account create --db "$dir/iam.db" --account-id 123456789012 \
  --access-key-id AKIADEMOROOTKEY00001 --secret-access-key demo-root-secret-not-for-real-use0000000 || exit 1
"$iamlogic" serve --db "$dir/iam.db" --port 0 --decision-log "$dir/decisions.jsonl" > "$dir/out" &
pid=$!
for _ in $(seq 100); do grep -q listening "$dir/out" 2>/dev/null && break; sleep 0.1; done
url=$(sed 's/listening on //' "$dir/out")
echo "== iamlogic serve --db $dir/iam.db --port 0 --decision-log $dir/decisions.jsonl"
echo "   listening on $url"
export AWS_ACCESS_KEY_ID=AKIADEMOROOTKEY00001 AWS_SECRET_ACCESS_KEY=demo-root-secret-not-for-real-use0000000
export AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL_IAM="$url" AWS_ENDPOINT_URL_STS="$url"
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER="" AWS_MAX_ATTEMPTS=1
echo "== aws iam create-user --user-name alice   (as the root user)"
"$aws" iam create-user --user-name alice --query User.Arn --output text || exit 1
key=$("$aws" iam create-access-key --user-name alice --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
alice_key=${key%%$'\t'*}; alice_secret=${key##*$'\t'}
echo "== aws iam list-users   (as alice, who has no policy)"
AWS_ACCESS_KEY_ID=$alice_key AWS_SECRET_ACCESS_KEY=$alice_secret "$aws" iam list-users --output text 2>&1
echo "   exit $?: denied; the decision log says why:"
tail -n 1 "$dir/decisions.jsonl" | python3 -c 'import json, sys; print(json.load(sys.stdin)["explanation"])'
echo "== aws iam attach-user-policy --user-name alice --policy-arn (a policy allowing iam:List*)"
arn=$("$aws" iam create-policy --policy-name list-iam --query Policy.Arn --output text \
  --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:List*","Resource":"*"}]}')
"$aws" iam attach-user-policy --user-name alice --policy-arn "$arn" || exit 1
echo "== aws iam list-users   (as alice, again)"
AWS_ACCESS_KEY_ID=$alice_key AWS_SECRET_ACCESS_KEY=$alice_secret "$aws" iam list-users --query 'Users[].UserName' --output text || exit 1
tail -n 1 "$dir/decisions.jsonl" | python3 -c 'import json, sys; print(json.load(sys.stdin)["explanation"])'
kill -TERM "$pid"; wait "$pid"
echo "   server stopped (exit $?)"

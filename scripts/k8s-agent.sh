#!/usr/bin/env bash
# An agent-watcher agent command that runs one attempt as a Kubernetes Job (local runner):
#   "argv": ["scripts/k8s-agent.sh", "aw-{run}-{phase}-{batch}-{attempt}", "{prompt_file}"]
# The mailbox must be mounted in the pod at the same path (a ReadWriteMany volume; set
# AW_K8S_CLAIM); the agent CLI's image is AW_K8S_IMAGE; its command is AW_K8S_COMMAND
# (default: claude -p --output-format json), fed the prompt file on stdin.
# Exit status: 0 when the Job completed, 1 when it failed or timed out; on SIGTERM (the
# watcher's timeout, cancel or stop) the Job is deleted. Not tested here: no cluster in CI.
set -euo pipefail
name=$1 prompt=$2
image=${AW_K8S_IMAGE:?set AW_K8S_IMAGE to the agent CLI image}
claim=${AW_K8S_CLAIM:?set AW_K8S_CLAIM to the PersistentVolumeClaim holding the mailbox}
root=${AGENT_WATCHER_ROOT:?run by agent-watcher}
command=${AW_K8S_COMMAND:-claude -p --output-format json}
deadline=${AW_K8S_DEADLINE:-7200}
name=$(printf '%s' "$name" | tr 'A-Z_.' 'a-z--' | cut -c1-63)
cleanup() { kubectl delete job "$name" --wait=false >/dev/null 2>&1 || true; }
trap 'cleanup; exit 143' TERM INT
kubectl apply -f - >/dev/null <<YAML
apiVersion: batch/v1
kind: Job
metadata: {name: "$name", labels: {app: agent-watcher}}
spec:
  backoffLimit: 0
  activeDeadlineSeconds: $deadline
  ttlSecondsAfterFinished: 600
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: agent
        image: "$image"
        workingDir: "$PWD"
        command: ["sh", "-c", "exec $command < \"\$0\"", "$prompt"]
        env: [{name: AGENT_WATCHER_ROOT, value: "$root"}, {name: AGENT_WATCHER_OUTPUT, value: "${AGENT_WATCHER_OUTPUT:-}"}]
        volumeMounts: [{name: mailbox, mountPath: "$root"}]
      volumes: [{name: mailbox, persistentVolumeClaim: {claimName: "$claim"}}]
YAML
# Complete or failed, whichever comes first (kubectl wait takes one condition at a time).
kubectl wait --for=condition=complete --timeout="${deadline}s" "job/$name" >/dev/null 2>&1 &
ok=$!
kubectl wait --for=condition=failed --timeout="${deadline}s" "job/$name" >/dev/null 2>&1 &
bad=$!
wait -n "$ok" "$bad" || true
kubectl logs "job/$name" --all-containers 2>&1 || true
if kill -0 "$bad" 2>/dev/null; then # "complete" answered first (or timed out)
  kill "$bad" 2>/dev/null || true
  if wait "$ok"; then exit 0; fi
  cleanup; exit 1
fi
kill "$ok" 2>/dev/null || true
exit 1

// Package kubefixture holds manifests the Kubernetes tests and the rollout
// bench both apply.
package kubefixture

// RBAC lets the namespace's default service account read its pods and post
// events: what drainit needs for the real deadline and the Events (the same
// rules as examples/legacy-java/deployment.yaml).
const RBAC = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: drainit}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get]}
- {apiGroups: [""], resources: [events], verbs: [create, get, patch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: drainit}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: drainit}
subjects: [{kind: ServiceAccount, name: default}]
`

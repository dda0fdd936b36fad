// Validates a Kubernetes object against the API schema (kubernetes-models: the OpenAPI schemas
// of upstream Kubernetes, one class per apiVersion/kind).
export interface Validatable {
    validate(): void;
}

export function validateObject(obj: { apiVersion: string; kind: string }): void {
    const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : [undefined, obj.apiVersion];
    const modulePath = group ? `kubernetes-models/${group}/${version}/${obj.kind}` : `kubernetes-models/${version}/${obj.kind}`;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(modulePath) as Record<string, new (o: unknown) => Validatable>;
    new mod[obj.kind](obj).validate();
}

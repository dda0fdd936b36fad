// Argument checks shared by the components: they run before a component registers anything,
// and name the argument and the fix (pulumi.InputPropertyError).
import * as pulumi from "@pulumi/pulumi";
import { parseCidr } from "./addressing";
import { FLANNEL_CNI_VERSION, SEMVER } from "./config";

/** Throws an InputPropertyError naming `propertyPath` unless `ok`. */
export function check(ok: boolean, propertyPath: string, reason: string): void {
    if (!ok) {
        throw new pulumi.InputPropertyError({ propertyPath, reason });
    }
}

export function checkVersion(value: string, propertyPath: string): void {
    check(SEMVER.test(value), propertyPath, `"${value}" is not a version like 1.2.3 (no leading v)`);
}

export function checkFlannelCniVersion(value: string, propertyPath: string): void {
    check(FLANNEL_CNI_VERSION.test(value), propertyPath, `"${value}" is not a version like 1.8.0-flannel1`);
}

export function checkCidr(value: string, propertyPath: string): void {
    check(parseCidr(value) !== undefined, propertyPath, `"${value}" is not an IPv4 CIDR block like 203.0.113.7/32`);
}

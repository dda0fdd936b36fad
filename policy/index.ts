// `pulumi preview --policy-pack policy` (or `pulumi up --policy-pack policy`) enforces these rules.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./rules";

new PolicyPack("hybrid-k8s", { policies });

// CNI and flannel network configs (pure). The seed's values are kept exactly; everything else is
// derived from the topology spec and the address plan so that Linux and Windows agree.
import { NodeAddress } from "../addressing";
import { FlannelBackend, TopologySpec } from "../topology";

/** flannel's net-conf.json: the pod CIDR kubeadm uses, and the topology's backend. */
export function flannelNetConf(podCidr: string, backend: FlannelBackend): string {
    return JSON.stringify({ Network: podCidr, EnableNFTables: false, Backend: backend }, null, 2);
}

/**
 * flannel's cni-conf.json on Linux. For vxlan this is the seed's config verbatim
 * (name vxlan0, flannel delegate with hairpinMode/isDefaultGateway, portmap).
 */
export function flannelCniConf(spec: TopologySpec): string {
    return JSON.stringify(
        {
            name: spec.linuxCniName,
            cniVersion: "0.3.1",
            plugins: [
                { type: "flannel", delegate: { hairpinMode: true, isDefaultGateway: true } },
                { type: "portmap", capabilities: { portMappings: true } },
            ],
        },
        null,
        2,
    );
}

/**
 * tor on Linux: a bridge with host-local IPAM from the node's own pod /24; no masquerade by the
 * plugin (traffic between cluster ranges keeps pod source IPs; see torMasqueradeRule).
 */
export function torBridgeConf(node: NodeAddress, name: string): string {
    return JSON.stringify(
        {
            cniVersion: "1.0.0",
            name,
            plugins: [
                {
                    type: "bridge",
                    bridge: name,
                    isGateway: true,
                    ipMasq: false,
                    hairpinMode: true,
                    ipam: {
                        type: "host-local",
                        ranges: [[{ subnet: node.podCidr, gateway: node.podGateway }]],
                        routes: [{ dst: "0.0.0.0/0" }],
                    },
                },
                { type: "portmap", capabilities: { portMappings: true } },
            ],
        },
        null,
        2,
    );
}

/**
 * tor on Linux: masquerade pod traffic only when it leaves the cluster's ranges (pod CIDR and
 * VNet), as a boot-time oneshot so the rules survive reboots. Idempotent (-C before -A).
 */
export function torMasqueradeScript(podCidr: string, vnetCidr: string): string {
    return `#!/bin/sh
iptables -t nat -N HYBRID-K8S-MASQ 2>/dev/null || true
iptables -t nat -C HYBRID-K8S-MASQ -d ${podCidr} -j RETURN 2>/dev/null || iptables -t nat -A HYBRID-K8S-MASQ -d ${podCidr} -j RETURN
iptables -t nat -C HYBRID-K8S-MASQ -d ${vnetCidr} -j RETURN 2>/dev/null || iptables -t nat -A HYBRID-K8S-MASQ -d ${vnetCidr} -j RETURN
iptables -t nat -C HYBRID-K8S-MASQ -j MASQUERADE 2>/dev/null || iptables -t nat -A HYBRID-K8S-MASQ -j MASQUERADE
iptables -t nat -C POSTROUTING -s ${podCidr} -j HYBRID-K8S-MASQ 2>/dev/null || iptables -t nat -A POSTROUTING -s ${podCidr} -j HYBRID-K8S-MASQ
`;
}

/** The HNS endpoint policies every Windows pod gets (the V2 "AdditionalArgs" format of sdnoverlay/sdnbridge). */
function windowsPolicies(natExceptions: string[], encapRoutes: string[], providerAddress?: string): unknown[] {
    return [
        { Name: "EndpointPolicy", Value: { Type: "OutBoundNAT", Settings: { Exceptions: natExceptions } } },
        ...encapRoutes.map((prefix) => ({ Name: "EndpointPolicy", Value: { Type: "SDNRoute", Settings: { DestinationPrefix: prefix, NeedEncap: true } } })),
        ...(providerAddress ? [{ Name: "EndpointPolicy", Value: { Type: "ProviderAddress", Settings: { ProviderAddress: providerAddress } } }] : []),
    ];
}

export interface WindowsCniInput {
    spec: TopologySpec;
    node: NodeAddress;
    podCidr: string;
    serviceCidr: string;
    vnetCidr: string;
}

/**
 * The Windows CNI config (C:\etc\cni\net.d). Its `name` is the HNS network name that kube-proxy
 * also uses. It declares the `portMappings` and `dns` capabilities (hostPort and cluster DNS).
 * - vxlan: flannel delegating to sdnoverlay; no NAT towards pod and service CIDRs, the service
 *   CIDR routed with encapsulation, the node IP as provider address (sig-windows-tools'
 *   flannel-overlay cni-conf-containerd.json).
 * - host-gw: flannel delegating to sdnbridge; no NAT inside the cluster's ranges, the service
 *   CIDR and the node's own IP routed through the host (microsoft/SDN l2bridge.conf).
 * - tor: sdnbridge directly, host-local IPAM from the node's pod /24 (.1 gateway, .2 host
 *   endpoint, which the join reserves in host-local's store).
 * On L2Bridge (host-gw, tor) a pod's default gateway must be the host endpoint .2, not the
 * network's .1: `optionalFlags.forceBridgeGateway` (microsoft/windows-container-networking
 * issue #40 and example/flannel_l2bridge.conf; microsoft/SDN Kubernetes/windows/helper.psm1
 * Get-PodEndpointGateway). sdnbridge re-serialises `ipam` into its own struct, which has
 * `subnet` and `routes` (each with a `dst`) and drops the rest, `ranges` and `rangeStart` too
 * (windows-container-networking cni/cni.go IPAMConfig, common/core/network.go): host-local
 * gets the flat form.
 */
export function windowsCniConf(input: WindowsCniInput): string {
    const { spec, node } = input;
    const capabilities = { portMappings: true, dns: true };
    const bridgePolicies = windowsPolicies([input.podCidr, input.serviceCidr, input.vnetCidr], [input.serviceCidr, `${node.privateIp}/32`]);
    let conf: Record<string, unknown>;
    switch (spec.topology) {
        case "vxlan":
            conf = {
                name: spec.windowsNetworkName,
                cniVersion: "0.3.0",
                type: "flannel",
                capabilities,
                delegate: { type: "sdnoverlay", AdditionalArgs: windowsPolicies([input.podCidr, input.serviceCidr], [input.serviceCidr], node.privateIp) },
            };
            break;
        case "host-gw":
            conf = {
                name: spec.windowsNetworkName,
                cniVersion: "0.3.0",
                type: "flannel",
                capabilities,
                delegate: { type: "sdnbridge", optionalFlags: { forceBridgeGateway: true }, AdditionalArgs: bridgePolicies },
            };
            break;
        case "tor": {
            conf = {
                name: spec.windowsNetworkName,
                cniVersion: "0.3.0",
                type: "sdnbridge",
                capabilities,
                optionalFlags: { forceBridgeGateway: true },
                ipam: { type: "host-local", subnet: node.podCidr, routes: [{ dst: "0.0.0.0/0" }] },
                AdditionalArgs: bridgePolicies,
            };
            break;
        }
    }
    return JSON.stringify(conf, null, 2);
}

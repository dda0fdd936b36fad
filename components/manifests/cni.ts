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

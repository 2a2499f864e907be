"""The reference fleet of multi-region-eks.yaml, built through the Python API.

    python examples/multi_region_eks.py [OUT]

builds the same files as `tfgen build examples/multi-region-eks.yaml`.
"""

import sys

import tfgen

# The starter GitOps repo of examples/gitops/, in a repository of its own.
REPO = tfgen.GitOpsRepo(url="https://github.com/example-org/fleet-gitops.git", revision="main", path="bootstrap")


def fleet() -> tfgen.Fleet:
    fleet = tfgen.Fleet(
        project="multi-region-clusters",
        tags={"Owner": "platform", "CostCenter": "4711"},
        aws_provider=">= 5.100, < 7.0",
        state=tfgen.StateBackend(
            backend="s3",
            bucket="mrc-tfstate",
            key_prefix="multi-region-clusters/",
            region="us-east-1",
        ),
    )

    dev = fleet.add_environment(
        "development",
        account_id="111111111111",
        access=tfgen.Access(admins=["arn:aws:iam::111111111111:role/platform-admin"]),
        gitops=tfgen.GitOps(argocd="self-managed", repo=REPO),
        defaults=tfgen.Defaults(
            kubernetes_version="1.35",
            nat="single",
            node_groups={"workers": tfgen.NodeGroup(name="workers", instance_types=["t3.medium"],
                                                    min_size=1, max_size=3, desired_size=1)},
        ),
    )
    dev.add_hub("us-east-1", cidr="10.10.0.0/16")
    dev.add_region("us-east-2", cidr="10.11.0.0/16")
    dev.add_region("us-west-2", cidr="10.12.0.0/16")

    prod = fleet.add_environment(
        "production",
        account_id="222222222222",
        access=tfgen.Access(admins=["arn:aws:iam::222222222222:role/platform-admin"],
                            viewers=["arn:aws:iam::222222222222:role/developers"]),
        gitops=tfgen.GitOps(repo=REPO),
        defaults=tfgen.Defaults(
            kubernetes_version="1.35",
            nat="per_az",
            node_groups={"workers": tfgen.NodeGroup(name="workers", instance_types=["m5.large"],
                                                    min_size=2, max_size=6, desired_size=3)},
        ),
    )
    prod.add_hub("us-east-1", cidr="10.20.0.0/16")
    for region, cidr in [("us-east-2", "10.21.0.0/16"), ("us-west-2", "10.22.0.0/16"), ("eu-west-1", "10.23.0.0/16")]:
        prod.add_region(region, cidr=cidr)
    return fleet


if __name__ == "__main__":
    tfgen.build(fleet(), out=sys.argv[1] if len(sys.argv) > 1 else "out")

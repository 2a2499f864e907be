"""moto's server, with the fixes the sandbox needs to stand in for EKS and for a NAT gateway's replacement.

moto 5 draws one random OIDC issuer (and API endpoint) per process, so every
EKS cluster of a region gets the same ones; a second IAM OIDC provider for the
shared issuer is then refused (EntityAlreadyExists), and an IRSA fleet with two
clusters in a region cannot be applied. In AWS each cluster has its own; here
each cluster gets its own too. A NAT gateway AWS deletes gives its Elastic IP back (disassociated, not
released); moto keeps it associated, so a replaced NAT gateway (a VPC CIDR
change) cannot take its address again. Here it is given back too.

Run as `python -m tfgen.sandbox.moto_boot ARGS`
with moto_server's arguments.
"""

from __future__ import annotations

import base64
import sys
import uuid

from moto.ec2.models.nat_gateways import NatGatewayBackend
from moto.eks import models
from moto.server import main

_created = models.Cluster.__init__
# EKS hands out a PEM CA certificate (base64); moto a random string, which `tfgen gitops` rightly refuses.
_CA = base64.b64encode(b"""-----BEGIN CERTIFICATE-----
MIIBfzCCASWgAwIBAgIUSHWeaGeYPAEp8XdLrBac5P9oNbUwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKa3ViZXJuZXRlczAeFw0yNjEyMDEyMTM3MDNaFw0zNjExMjgy
MTM3MDNaMBUxEzARBgNVBAMMCmt1YmVybmV0ZXMwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAT8csVaDE1F6sabNSvOkMKGo7wvTuzbn4x8mUngPYG4NX20Feu9UZY4
osmiQTFsW76Dw+H29gBxHZrPlGIfj50To1MwUTAdBgNVHQ4EFgQUy8+UaIRRARbz
0jRwkVSMSqdfEe8wHwYDVR0jBBgwFoAUy8+UaIRRARbz0jRwkVSMSqdfEe8wDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEAmQYgRGcPCjUocTzq07Cj
CflKm0tlNGbuwO3q/9Z4Ui0CICskCm6ATcQmseaP8HP/2QoaMPRS3hmION3y+0+7
G2FK
-----END CERTIFICATE-----
""").decode()


def _with_own_identity(self, *args, **kwargs) -> None:
    _created(self, *args, **kwargs)
    region = kwargs.get("region_name") or self.arn.split(":")[3]
    self.identity = {"oidc": {"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{uuid.uuid4().hex.upper()}"}}
    self.endpoint = f"https://{uuid.uuid4().hex.upper()}.gr7.{region}.eks.amazonaws.com"
    self.certificate_authority = {"data": _CA}


models.Cluster.__init__ = _with_own_identity

_deleted = NatGatewayBackend.delete_nat_gateway


def _giving_its_address_back(self, nat_gateway_id: str):
    gateway = _deleted(self, nat_gateway_id)
    for address in [a for a in self.addresses if a.eni is not None and a.eni is gateway._eni]:
        self.disassociate_address(address=address.public_ip)
    return gateway


NatGatewayBackend.delete_nat_gateway = _giving_its_address_back

if __name__ == "__main__":
    main(sys.argv[1:])

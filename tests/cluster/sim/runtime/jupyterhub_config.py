# JupyterHub configuration of the simulated hub pod (real_hub mode): the same for
# JupyterHub 5.2 (chrooted in the trixie root, where NUBLADO_SIM_POD_DIR is /sim/pod) and 3.0.
#
# The runtime copies this file to /usr/local/etc/jupyterhub/jupyterhub_config.py in the
# pod's file tree. Like Z2JH's config it takes hub.db.url from the mounted values and
# sets PGPASSWORD in this process only, from existing-secret/hub.db.password.
# There is no proxy (a no-op Proxy class) and no spawning: the hub only has to own its
# database, answer /hub/health and take REST API calls.
import os
import sys

sys.path.insert(0, "/usr/local/etc/jupyterhub")

from jupyterhub.proxy import Proxy  # noqa: E402
from z2jh import get_config, get_secret_value  # noqa: E402


class NoopProxy(Proxy):
    """An externally managed proxy that is not there: routes go nowhere."""

    should_start = False

    async def add_route(self, routespec, target, data):
        pass

    async def delete_route(self, routespec):
        pass

    async def get_all_routes(self):
        return {}


# `c` is the traitlets config object the loader puts in this namespace.
pod_dir = os.environ["NUBLADO_SIM_POD_DIR"]
hub_port = int(os.environ["NUBLADO_SIM_HUB_PORT"])
public_port = int(os.environ["NUBLADO_SIM_PUBLIC_PORT"])

c.JupyterHub.db_url = get_config("hub.db.url")
c.JupyterHub.upgrade_db = bool(get_config("hub.db.upgrade", False))
db_password = get_secret_value("hub.db.password", None)
if db_password is not None:
    os.environ["PGPASSWORD"] = db_password

c.JupyterHub.base_url = get_config("hub.baseUrl", "/")
c.JupyterHub.proxy_class = NoopProxy
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{hub_port}"
c.JupyterHub.bind_url = f"http://127.0.0.1:{public_port}"
c.JupyterHub.authenticator_class = "dummy"
c.JupyterHub.cleanup_servers = False
c.JupyterHub.cookie_secret_file = os.path.join(pod_dir, "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = os.path.join(pod_dir, "jupyterhub.pid")
c.JupyterHub.log_level = "DEBUG"  # shows "Stamping empty database ..."
c.JupyterHub.last_activity_interval = 3600

with open(os.environ["NUBLADO_SIM_ADMIN_TOKEN_FILE"]) as f:
    admin_token = f.read().strip()
c.JupyterHub.services = [{"name": "sim-admin", "api_token": admin_token}]
c.JupyterHub.load_roles = [
    {
        "name": "sim-admin",
        "description": "test cluster seeding",
        "scopes": ["admin:users", "admin:groups", "admin:servers", "read:hub"],
        "services": ["sim-admin"],
    }
]

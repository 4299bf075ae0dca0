"""The Nublado controller, as far as the faults need it: a lab that appears
while the wipe runs (lab-appears, lab-at-dump)."""

import json

from .. import seed as seedmod
from ..k8s import ApiError
from .common import NS, PODS, GAF, deleting_now


class LabController:
    def __init__(self, ctl):
        self.ctl = ctl
        self.store = ctl.store
        self.api = ctl.api
        self.faults = ctl.sim.faults
        self.lab_appeared = False   # the lab-appears fault fires once

    def on_event(self, res, ev):
        if not (res is NS and ev.type == "MODIFIED" and deleting_now(ev)):
            return
        user = self.faults.get("lab-appears")
        labels = ev.obj["metadata"].get("labels") or {}
        if user and not self.lab_appeared and labels.get("nublado.lsst.io/category") == "lab":
            # a user with a notebook token asks for a lab while the others go
            self.lab_appeared = True
            if self.lab_route_open():
                self.ctl.after(0.2, self.lab_appears, user)

    def lab_route_open(self):
        """Whether a GafaelfawrIngress still routes lab creation (upstream's
        nublado-controller-user: .../spawner/v1/labs/.*/create)."""
        for _, gi in self.store.items(GAF, "nublado"):
            text = json.dumps(gi.get("template") or {})
            if "/spawner/v1/labs/" in text and "/create" in text:
                return True
        return False

    def lab_appears(self, user):
        """The Nublado controller makes a lab: its namespace and its pod."""
        name = "%s-%s" % (seedmod.PREFIX, user)
        try:
            self.api.create(NS, "", seedmod.ns(name, {
                "nublado.lsst.io/category": "lab", "nublado.lsst.io/user": user,
                "argocd.argoproj.io/instance": "nublado-users"}), {},
                "system:serviceaccount:nublado:nublado-controller")
            self.api.create(PODS, name, seedmod.lab_pod(user, name), {},
                            "system:serviceaccount:nublado:nublado-controller")
        except ApiError:
            pass

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# controls-archive.py ROOTFS.tar OUT.tar TAG...: a docker-archive (the classic
# layout: manifest.json, <config digest>.json, <layer>/layer.tar) of one
# layer, whose Cmd, label, history entry and comment carry terminal controls:
# a window title (OSC), a screen clear (CSI) and the one-character C1 CSI.
import hashlib
import io
import json
import sys
import tarfile

rootfs, out, tags = sys.argv[1], sys.argv[2], sys.argv[3:]
layer = open(rootfs, 'rb').read()
layer_hex = hashlib.sha256(layer).hexdigest()
controls = '\x1b]0;pwned\x07\x1b[2J\u009b2J'
config = {
    'architecture': 'amd64', 'os': 'linux', 'created': '2024-01-02T03:04:05Z',
    'config': {'Cmd': ['sh', '-c', 'echo ' + controls], 'Labels': {'evil': controls}},
    'rootfs': {'type': 'layers', 'diff_ids': ['sha256:' + layer_hex]},
    'history': [{'created': '2024-01-02T03:04:05Z', 'created_by': '/bin/sh -c #(nop) ' + controls,
                 'comment': 'pwned ' + controls}],
}
config_bytes = json.dumps(config).encode()
config_hex = hashlib.sha256(config_bytes).hexdigest()
manifest = json.dumps([{'Config': config_hex + '.json', 'RepoTags': tags,
                        'Layers': [layer_hex + '/layer.tar']}]).encode()
with tarfile.open(out, 'w') as t:
    for name, data in ((layer_hex + '/layer.tar', layer), (config_hex + '.json', config_bytes),
                       ('manifest.json', manifest)):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))

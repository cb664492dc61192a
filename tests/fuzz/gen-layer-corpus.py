#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the seed corpus of fuzz-layer into corpus/layer/: small layers of
the shapes real images have (pax, GNU and ustar headers; gzip and zstd;
whiteouts, opaque directories, hardlinks within the layer and to the lower
layer fuzz-layer.c makes, symlinks, long names, xattrs, sparse files).
Needs python3, GNU tar and zstd. Run from anywhere; the output is
deterministic, so rerunning it changes nothing in git."""
import gzip
import io
import os
import re
import subprocess
import sys
import tarfile
import tempfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'layer')
MTIME = 1700000000


def info(name, kind=tarfile.REGTYPE, mode=0o644, data=b'', **kw):
    t = tarfile.TarInfo(name)
    t.type = kind
    t.mode = mode
    t.mtime = MTIME
    t.uid = kw.pop('uid', 0)
    t.gid = kw.pop('gid', 0)
    t.uname = t.gname = ''
    for k, v in kw.items():
        setattr(t, k, v)
    if kind == tarfile.REGTYPE:
        t.size = len(data)
    return t, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def tar(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=fmt) as t:
        for e in entries:
            t.addfile(*e)
    return trim(buf.getvalue())


def trim(data):
    """Drops the zeros that pad a tar to its record size: the end marker
    (two zero blocks) is all a reader needs, and small seeds mutate faster."""
    end = len(data.rstrip(b'\0'))
    end = (end + 511) // 512 * 512
    return data[:end] + b'\0' * 1024


def fix_sparse_name(data):
    """GNU tar names a pax sparse member "GNUSparseFile.PID/NAME": the PID
    becomes 0 (and the header checksum is recomputed) so that the seed does
    not change with every run."""
    data = bytearray(data)
    for m in re.finditer(rb'GNUSparseFile\.(\d+)/', bytes(data)):
        block = m.start() // 512 * 512
        name = bytes(data[block:block + 100]).rstrip(b'\0')
        name = re.sub(rb'GNUSparseFile\.\d+/', b'GNUSparseFile.0/', name)
        data[block:block + 100] = name.ljust(100, b'\0')
        data[block + 148:block + 156] = b' ' * 8
        data[block + 148:block + 156] = b'%06o\0 ' % sum(data[block:block + 512])
    return bytes(data)


def write(name, data):
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)


def base_layer():
    return [
        info('etc', tarfile.DIRTYPE, 0o755),
        info('etc/hostname', data=b'berth\n'),
        info('etc/os-release', data=b'ID=fuzz\n'),
        info('etc/hosts', tarfile.LNKTYPE, linkname='etc/hostname'),
        # A hardlink to a file of the lower layer: copied up first.
        info('etc/passwd.bak', tarfile.LNKTYPE, linkname='etc/passwd'),
        info('bin', tarfile.DIRTYPE, 0o755),
        info('bin/sh', tarfile.SYMTYPE, 0o777, linkname='/bin/busybox'),
        info('bin/.wh.ls'),
        info('var/cache/.wh..wh..opq'),
        info('.wh.gone'),
        info('usr/local/bin/tool', mode=0o4755, data=b'#!/bin/sh\n', uid=1000, gid=1000),
        info('run/fifo', tarfile.FIFOTYPE, 0o600),
        info('tmp', tarfile.DIRTYPE, 0o1777),
    ]


def main():
    os.makedirs(OUT, exist_ok=True)
    plain = tar(base_layer())
    write('pax.tar', plain)
    write('pax.tar.gz', gzip.compress(plain, mtime=0))
    write('pax.tar.zst', subprocess.run(['zstd', '-q', '-c', '-19'], input=plain,
                                        stdout=subprocess.PIPE, check=True).stdout)

    xattrs, _ = info('usr/bin/ping', mode=0o755, data=b'\x7fELF')
    xattrs.pax_headers = {'SCHILY.xattr.security.capability':
                          '\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00',
                          'SCHILY.xattr.user.comment': 'hello',
                          'SCHILY.xattr.trusted.overlay.redirect': '/etc'}
    write('xattrs.tar', tar([(xattrs, io.BytesIO(b'\x7fELF')),
                             info('usr/bin/.wh..wh..opq')]))

    long = 'a' * 120 + '/' + 'b' * 120 + '/file'
    write('gnu-longname.tar', tar([info(long, data=b'x'),
                                   info('link', tarfile.SYMTYPE, linkname='c' * 200),
                                   info('hard', tarfile.LNKTYPE, linkname=long)],
                                  fmt=tarfile.GNU_FORMAT))
    write('ustar.tar', tar([info('a/b/c/implied', data=b'implied parents\n'),
                            info('a/b/c', tarfile.DIRTYPE, 0o700, uid=1, gid=1),
                            info('dev/null', tarfile.CHRTYPE, 0o666, devmajor=1, devminor=3),
                            info('dev/.wh.sda')],
                           fmt=tarfile.USTAR_FORMAT))
    # A directory replaced by a file, a file replaced by a directory, an
    # entry replaced after its own whiteout.
    write('replace.tar', tar([info('x', tarfile.DIRTYPE, 0o755),
                              info('x/y', data=b'1'),
                              info('x', data=b'now a file'),
                              info('.wh.z'),
                              info('z', tarfile.DIRTYPE, 0o755),
                              info('z/w', data=b'2')]))
    write('empty.tar', b'\0' * 1024)

    # Sparse files as GNU tar writes them, in both of its formats.
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, 'sparse'), 'wb') as f:
            f.write(b'head')
            f.seek(1 << 20)
            f.write(b'tail')
        os.utime(os.path.join(d, 'sparse'), (MTIME, MTIME))
        for fmt, name in (('gnu', 'sparse-gnu.tar'), ('posix', 'sparse-pax.tar')):
            pax = ['--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime'] \
                if fmt == 'posix' else []
            data = subprocess.run(['tar', '-C', d, '--sparse', '--format=' + fmt, '--owner=0',
                                   '--group=0', '--numeric-owner', '--mtime=@%d' % MTIME] + pax +
                                  ['-cf', '-', 'sparse'],
                                  stdout=subprocess.PIPE, check=True).stdout
            write(name, trim(fix_sparse_name(data)))
    return 0


if __name__ == '__main__':
    sys.exit(main())

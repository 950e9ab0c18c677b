#!/usr/bin/env python3
"""`meson install --destdir`: every file lands in its FHS place, the shipped config is never
overwritten, the units pass `systemd-analyze verify` in the installed tree, and virtuned's
`systemd-analyze security` exposure stays below 2.0."""
import glob, json, os, shutil, subprocess, sys, tempfile

build, source = os.environ['VT_BUILD'], os.environ['VT_SOURCE']
unitdir, udevdir, tmpfilesdir, sysusersdir = sys.argv[1:5]
failed = False


def check(ok, what):
    global failed
    print(('ok: ' if ok else 'FAIL: ') + what)
    failed |= not ok


def option(opts, name):
    return next(o['value'] for o in opts if o['name'] == name)


opts = json.loads(subprocess.check_output(['meson', 'introspect', '--buildoptions', build]))
prefix = option(opts, 'prefix')
d = {k: os.path.join(prefix, option(opts, k))
     for k in ('bindir', 'sbindir', 'libexecdir', 'datadir', 'mandir')}
# The policy is always under /etc/virtune, whatever the prefix: virtune reads it there.
confdir = '/etc/virtune'
expected = {
    d['sbindir'] + '/virtune': 0o755, d['sbindir'] + '/virtuned': 0o755,
    d['bindir'] + '/virtune-host': 0o755,
    unitdir + '/virtuned.service': 0o644, unitdir + '/virtune-firstboot.service': 0o644,
    unitdir + '/virtune-apply.socket': 0o644, unitdir + '/virtune-apply@.service': 0o644,
    udevdir + '/rules.d/60-virtune.rules': 0o644, tmpfilesdir + '/virtune.conf': 0o644,
    sysusersdir + '/virtune.conf': 0o644,
    confdir + '/virtune.conf': 0o644,
    d['datadir'] + '/virtune/cloud-init/virtune.cfg': 0o644,
    d['datadir'] + '/virtune/cloud-init/per-instance-virtune': 0o755,
    d['libexecdir'] + '/virtune/virtune-firstboot': 0o755,
}
for page in glob.glob(os.path.join(source, 'man', '*.[1-8]')):
    name = os.path.basename(page)
    expected[f"{d['mandir']}/man{name[-1]}/{name}"] = 0o644
allowed = [d['bindir'], d['sbindir'], unitdir, udevdir + '/rules.d', tmpfilesdir, sysusersdir,
           confdir, d['datadir'] + '/virtune', d['libexecdir'] + '/virtune',
           d['mandir']]


def install(dest):
    r = subprocess.run(['meson', 'install', '-C', build, '--no-rebuild', '--quiet',
                        '--destdir', dest], capture_output=True, text=True)
    if r.returncode:
        print(r.stdout, r.stderr)
    return r.returncode == 0


with tempfile.TemporaryDirectory() as dest:
    check(install(dest), 'meson install --destdir')
    got = {}
    for dirpath, _, files in os.walk(dest):
        for f in files:
            p = os.path.join(dirpath, f)
            got['/' + os.path.relpath(p, dest)] = os.stat(p).st_mode & 0o7777
    print('installed:\n  ' + '\n  '.join(sorted(got)))
    for path, mode in sorted(expected.items()):
        check(got.get(path) == mode, f'{path} installed, mode {mode:o}')
    stray = [p for p in got if not any(p.startswith(a + '/') for a in allowed)]
    check(not stray, f'nothing installed outside the FHS places ({stray})')
    check(os.path.isdir(dest + confdir + '/virtune.conf.d'),
          'virtune.conf.d directory created')

    conf = dest + confdir + '/virtune.conf'
    with open(conf, 'w') as f:
        f.write('[haltpoll]\nenable = yes\n')
    check(install(dest), 'second meson install')
    with open(conf) as f:
        check(f.read() == '[haltpoll]\nenable = yes\n', 'an edited virtune.conf is kept')

    # verify --root resolves every dependency (sysinit.target, ...) and ExecStart inside the
    # root: give the tree the distribution's units.
    shutil.copytree('/lib/systemd/system', dest + '/usr/lib/systemd/system', symlinks=True,
                    dirs_exist_ok=True)
    units = [dest + unitdir + '/' + u for u in ('virtuned.service', 'virtune-firstboot.service',
                                                'virtune-apply.socket', 'virtune-apply@1.service')]
    # an instance of the template, as the socket makes one per job
    os.symlink('virtune-apply@.service', dest + unitdir + '/virtune-apply@1.service')
    r = subprocess.run(['systemd-analyze', 'verify', '--man=no', '--root=' + dest] + units,
                       capture_output=True, text=True)
    out = (r.stdout + r.stderr).strip()
    check(r.returncode == 0 and not out, f'systemd-analyze verify: clean ({out or "no output"})')
    # A unit whose ExecStart is missing must fail: the check above really looks inside the root.
    os.rename(dest + d['sbindir'] + '/virtuned', dest + '/virtuned.moved')
    r = subprocess.run(['systemd-analyze', 'verify', '--man=no', '--root=' + dest, units[0]],
                       capture_output=True, text=True)
    check(r.returncode != 0 and 'not executable' in r.stdout + r.stderr,
          'systemd-analyze verify notices a missing ExecStart')
    os.rename(dest + '/virtuned.moved', dest + d['sbindir'] + '/virtuned')

    r = subprocess.run(['systemd-analyze', 'security', '--offline=true', '--root=' + dest,
                        '--no-pager', '--threshold=20', 'virtuned.service'],
                       capture_output=True, text=True)
    overall = [l for l in r.stdout.splitlines() if 'Overall exposure' in l]
    print(overall[0] if overall else r.stdout + r.stderr)
    check(r.returncode == 0 and overall, 'virtuned.service exposure below 2.0')
    r = subprocess.run(['systemd-analyze', 'security', '--offline=true', '--root=' + dest,
                        '--no-pager', '--threshold=30', 'virtune-apply@1.service'],
                       capture_output=True, text=True)
    overall = [l for l in r.stdout.splitlines() if 'Overall exposure' in l]
    print(overall[0] if overall else r.stdout + r.stderr)
    check(r.returncode == 0 and overall, 'virtune-apply@.service exposure below 3.0')

sys.exit(1 if failed else 0)

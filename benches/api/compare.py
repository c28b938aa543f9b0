#!/usr/bin/env python3
"""Stack create + delete through the Heat v1 REST API: heat-server against the real Heat.

usage: compare.py [--heat-server BIN] [--heat-url URL] [--cases LIST] [--poll SECS]

Starts heat-server (BIN, default target/release/heat-server) on a free loopback port with a
temporary data directory (SQLite, noauth), and, when --heat-url is given (the real OpenStack
Heat, e.g. ../shared/peers/heat started with its start.sh), runs the same cases against it in
the same run. Each case creates a stack, polls until CREATE_COMPLETE/FAILED, deletes it and
polls until it is gone; the times are wall-clock from the first request to the state seen,
+- the poll interval (default 0.02 s).

Cases (the shapes of Heat's benchmark runner):
  none-N     N independent OS::Heat::None
  chain-N    N OS::Heat::None, each depending on the previous one
  random-N   N independent OS::Heat::RandomString (length 32)
  fanout-N   OS::Heat::TestResource: root -> N chains of depth 3 -> sink, each waiting 1 s on
             create: critical path 5 s, 3N+2 resources
Output: a TSV table (case, resources, server, create_s, delete_s, status) and the ratios.
Only the Python standard library is used.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

HOT = '2018-08-31'


def template(case):
    shape, n = case.rsplit('-', 1)
    n = int(n)
    res = {}
    if shape == 'none':
        for i in range(n):
            res['r%d' % i] = {'type': 'OS::Heat::None'}
    elif shape == 'chain':
        for i in range(n):
            res['r%d' % i] = {'type': 'OS::Heat::None'}
            if i:
                res['r%d' % i]['depends_on'] = 'r%d' % (i - 1)
    elif shape == 'random':
        for i in range(n):
            res['r%d' % i] = {'type': 'OS::Heat::RandomString', 'properties': {'length': 32}}
    elif shape == 'fanout':
        def tr(deps):
            r = {'type': 'OS::Heat::TestResource',
                 'properties': {'value': 'x', 'action_wait_secs': {'create': 1}}}
            if deps:
                r['depends_on'] = deps
            return r
        res['root'] = tr(None)
        ends = []
        for w in range(n):
            prev = 'root'
            for d in range(3):
                name = 'n%d_%d' % (w, d)
                res[name] = tr(prev)
                prev = name
            ends.append(prev)
        res['sink'] = tr(ends)
    else:
        raise SystemExit('unknown case %r' % case)
    return {'heat_template_version': HOT, 'description': 'bench ' + case, 'resources': res}


def request(method, url, body=None, timeout=600):
    data = json.dumps(body).encode() if body is not None else None
    headers = {'Accept': 'application/json', 'X-Auth-Token': 'noauth'}
    if data is not None:
        headers['Content-Type'] = 'application/json'
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            return resp.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors='replace')


def wait(url, done, poll, timeout):
    end = time.monotonic() + timeout
    while True:
        code, body = request('GET', url)
        if code == 404:
            return 'GONE'
        if code == 200 and body['stack']['stack_status'] in done:
            return body['stack']['stack_status']
        if code >= 500:
            raise RuntimeError('GET %s -> %s %s' % (url, code, body))
        if time.monotonic() > end:
            return 'TIMEOUT'
        time.sleep(poll)


def run_case(base, case, poll, timeout):
    tmpl = template(case)
    name = 'bench-%s-%s' % (case, uuid.uuid4().hex[:8])
    t0 = time.monotonic()
    code, body = request('POST', base + '/stacks', {
        'stack_name': name, 'template': tmpl, 'disable_rollback': True, 'timeout_mins': 120})
    if code != 201:
        raise RuntimeError('create -> %s %s' % (code, body))
    url = '%s/stacks/%s/%s' % (base, name, body['stack']['id'])
    created = wait(url, ('CREATE_COMPLETE', 'CREATE_FAILED'), poll, timeout)
    t1 = time.monotonic()
    code, body = request('DELETE', url)
    if code not in (200, 202, 204):
        raise RuntimeError('delete -> %s %s' % (code, body))
    deleted = wait(url, ('DELETE_COMPLETE', 'DELETE_FAILED'), poll, timeout)
    t2 = time.monotonic()
    status = created if deleted in ('GONE', 'DELETE_COMPLETE') else created + '/' + deleted
    return len(tmpl['resources']), t1 - t0, t2 - t1, status


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def start_server(binary, data_dir):
    port = free_port()
    proc = subprocess.Popen(
        [binary, '--listen', '127.0.0.1:%d' % port, '--data-dir', data_dir,
         '--max-resources-per-stack', '20000', '--max-template-size', '16777216',
         '--max-json-body-size', '33554432'],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            return proc, 'http://127.0.0.1:%d/v1/admin' % port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit('heat-server did not start')


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument('--heat-server', default=os.path.join(here, '../../target/release/heat-server'))
    ap.add_argument('--heat-url', help='the real Heat to compare with (its v1 URL with project)')
    ap.add_argument('--cases', default='none-100,chain-500,fanout-100,none-10000')
    ap.add_argument('--heat-cases', default='none-100,chain-500,fanout-100',
                    help='the cases run against the real Heat too')
    ap.add_argument('--poll', type=float, default=0.02)
    ap.add_argument('--timeout', type=float, default=1800)
    a = ap.parse_args()

    rows = []
    cases = [c for c in a.cases.split(',') if c]
    if cases:
        with tempfile.TemporaryDirectory() as data:
            proc, url = start_server(a.heat_server, data)
            try:
                for case in cases:
                    rows.append((case, 'heat-server') + run_case(url, case, a.poll, a.timeout))
                    print('\t'.join(map(str, rows[-1])), file=sys.stderr, flush=True)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    if a.heat_url:
        for case in [c for c in a.heat_cases.split(',') if c]:
            rows.append((case, 'heat') + run_case(a.heat_url.rstrip('/'), case, 0.2, a.timeout))
            print('\t'.join(map(str, rows[-1])), file=sys.stderr, flush=True)

    print('case\tresources\tserver\tcreate_s\tdelete_s\tstatus')
    for case, server, n, c, d, status in rows:
        print('%s\t%d\t%s\t%.3f\t%.3f\t%s' % (case, n, server, c, d, status))
    ours = {r[0]: r for r in rows if r[1] == 'heat-server'}
    for case, server, n, c, d, status in rows:
        if server == 'heat' and case in ours:
            o = ours[case]
            print('ratio %s: heat %.1f s / heat-server %.3f s = %.0fx (create+delete)'
                  % (case, c + d, o[3] + o[4], (c + d) / max(o[3] + o[4], 1e-9)))
    for case, r in ours.items():
        if case.startswith('fanout-'):
            print('fanout %s: created in %.3f s = %.3f x the 5 s critical path'
                  % (case, r[3], r[3] / 5.0))


if __name__ == '__main__':
    sys.exit(main())

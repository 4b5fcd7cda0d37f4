"""nginx (WORKFLOWS.md settings) serving a repofs mount: byte-exact bodies,
Range -> 206, If-Modified-Since -> 304, autoindex."""
import random

from conftest import sha256
from tools import fetch


def test_nginx_serves_mount(s3, prefix, mount_factory, nginx_factory):
    rng = random.Random(5)
    files = {
        "pool/main/h/hello/hello_1.0_amd64.deb": rng.randbytes(3 * 1024 * 1024 + 5),
        "dists/stable/InRelease": b"Origin: test\n" * 100,
        "simple/pkg/pkg-1.0-py3-none-any.whl": rng.randbytes(4096),
        "empty": b"",
    }
    for key, data in files.items():
        s3.put(prefix + key, data)
    m = mount_factory(prefix)
    n = nginx_factory(m.path())
    for key, data in files.items():
        status, headers, body = fetch(n.url(key))
        assert status == 200, key
        assert int(headers["Content-Length"]) == len(data)
        assert sha256(body) == sha256(data), key
    deb = "pool/main/h/hello/hello_1.0_amd64.deb"
    data = files[deb]
    status, headers, body = fetch(n.url(deb), {"Range": "bytes=1000-200999"})
    assert status == 206
    assert body == data[1000:201000]
    assert headers["Content-Range"] == "bytes 1000-200999/%d" % len(data)
    status, headers, body = fetch(n.url(deb), {"Range": "bytes=-10"})
    assert status == 206 and body == data[-10:]
    # apt's revalidation: If-Modified-Since with the served Last-Modified.
    status, headers, _ = fetch(n.url("dists/stable/InRelease"))
    last_modified = headers["Last-Modified"]
    etag = headers["ETag"]
    status, _, body = fetch(n.url("dists/stable/InRelease"), {"If-Modified-Since": last_modified})
    assert status == 304 and body == b""
    # The same version keeps the same validators on a later request.
    status, headers, _ = fetch(n.url("dists/stable/InRelease"))
    assert headers["Last-Modified"] == last_modified and headers["ETag"] == etag
    # apt's resume: Range + If-Range with the stored Last-Modified -> 206.
    status, _, body = fetch(n.url(deb), {"Range": "bytes=100-", "If-Range": fetch(n.url(deb))[1]["Last-Modified"]})
    assert status == 206 and body == data[100:]
    # autoindex listing of a directory (pip's simple index).
    status, _, body = fetch(n.url("simple/pkg/"))
    assert status == 200
    assert b'href="pkg-1.0-py3-none-any.whl"' in body
    status, _, body = fetch(n.url("pool/main/"))
    assert b'href="h/"' in body
    assert fetch(n.url("missing.deb"))[0] == 404

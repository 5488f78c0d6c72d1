from tests.support.hubtest import C_RW, MT, ROOT, Hub, indicator, post_objects


def test_discovery_lists_the_root(hub: Hub) -> None:
    r = hub.client().get("/taxii2/", headers=hub.headers("alice"))
    assert r.status_code == 200
    assert r.headers["Content-Type"] == MT
    assert r.json["title"] == "test hub"
    assert r.json["default"] == f"/{ROOT}/"
    assert r.json["api_roots"] == [f"/{ROOT}/"]


def test_posted_object_comes_back(hub: Hub) -> None:
    obj = indicator()
    r = post_objects(hub, "alice", C_RW, [obj])
    assert r.status_code == 202, r.data
    r = hub.client().get(f"/{ROOT}/collections/{C_RW}/objects/", headers=hub.headers("reader"))
    assert r.json["objects"] == [obj]

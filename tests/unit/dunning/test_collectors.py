def test_a_task_goes_to_the_accounts_collector_else_round_robin_to_one_with_room():
    from receivables.dunning.collectors import choose_collector
    from receivables.dunning.config import Collector

    team = (Collector(name="ali", capacity=1), Collector(name="veli", capacity=2), Collector(name="ayse", capacity=2))
    assert choose_collector(team, {}, None, None) == "ali"
    assert choose_collector(team, {"ali": 1}, "ali", None) == "veli"  # next after the last one
    assert choose_collector(team, {"ali": 1, "veli": 2}, "veli", None) == "ayse"
    assert choose_collector(team, {"ali": 0, "veli": 2, "ayse": 2}, "ayse", None) == "ali"  # wraps round
    assert choose_collector(team, {"ali": 1, "veli": 2, "ayse": 2}, "ali", None) is None  # all full: the queue
    assert choose_collector(team, {"veli": 2}, "ali", "veli") == "veli"  # sticky while the cycle lasts
    assert choose_collector(team, {}, "ali", "gone") == "veli"  # a collector no longer in the group: round-robin

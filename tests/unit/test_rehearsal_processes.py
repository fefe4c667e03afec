"""How many client processes the rehearsal starts (congress.rehearsal.processes.client_processes)."""

from __future__ import annotations

from congress.rehearsal.processes import PER_PROCESS, client_processes


def test_the_story_on_the_two_core_machine_uses_three_client_processes() -> None:
    # 295 delegates + 10 non-voting + 4,000 observers: five processes of ~900 used to queue behind
    # each other beside the server on 2 cores.
    assert client_processes(4_305, cores=2) == 3


def test_twenty_thousand_observers_are_spread_so_that_no_process_serves_more_than_2500() -> None:
    assert client_processes(20_305, cores=2) == 8
    assert client_processes(10_000, cores=2) == 4


def test_a_larger_client_machine_gets_about_900_connections_per_process_up_to_eight() -> None:
    assert client_processes(4_305, cores=16) == 5
    assert client_processes(20_305, cores=16) == 8
    assert client_processes(300, cores=16) == 2


def test_no_process_holds_more_connections_than_its_open_files_allow() -> None:
    clients = 9 * PER_PROCESS  # past the cap of 8
    count = client_processes(clients, cores=2)
    assert count == 9 and clients / count <= PER_PROCESS

"""Who may see an account's private stream data is kept in memory and forgotten on every change.

The market stream asks "which users follow this account?" for every order update it relays. The
answer is cached; each test below changes it through the wallet service and shows that the very
next answer is the new one (with a cache that was not invalidated they would see the old one).
"""

from __future__ import annotations

from hyperdesk.keystore import generate_private_key


def _followers(services, account: str) -> frozenset[int]:
    return services.wallets.users_of_account(account)


def test_a_new_verified_wallet_follows_its_account_at_once(services, alice, bob):
    key, address = generate_private_key()
    account = address.lower()
    services.wallets.create(alice.id, label="a", private_key=key)
    assert _followers(services, account) == {alice.id}  # now remembered
    services.wallets.create(bob.id, label="b", private_key=key)
    assert _followers(services, account) == {alice.id, bob.id}


def test_a_deleted_wallet_stops_following_at_once(services, alice):
    key, address = generate_private_key()
    wallet = services.wallets.create(alice.id, label="a", private_key=key)
    assert _followers(services, address.lower()) == {alice.id}
    services.wallets.delete(alice.id, wallet.id)
    assert _followers(services, address.lower()) == frozenset()


def test_a_revoked_agent_stops_following_at_once(services, alice, paper_server):
    master = paper_server.new_wallet()
    response, agent_key = paper_server.sdk_exchange(master).approve_agent(None)
    assert response["status"] == "ok", response
    wallet = services.wallets.create(
        alice.id, label="agent", private_key=agent_key, account_address=master.address
    )
    assert wallet.verified
    account = master.address.lower()
    assert _followers(services, account) == {alice.id}
    services.wallets.mark_revoked(wallet.id, "the exchange no longer knows this agent")
    assert _followers(services, account) == frozenset()

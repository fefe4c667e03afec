"""Sealed (encrypted) ballots for secret votes: pure cryptography and counting, no I/O.

The server never holds a readable choice of a secret vote. Each answer is encrypted on the
delegate's phone with exponential ElGamal under the trustees' joint key, with zero-knowledge proofs
that the ballot is well formed; ballots are added up per delegate group without opening any one; the
trustees (监票人) decrypt only those sums. docs/secrecy.md is the specification; the proofs follow
the Belenios specification (individual and overall disjunctive Chaum-Pedersen proofs, Schnorr key
proofs, Chaum-Pedersen decryption proofs, threshold key generation by Pedersen's verifiable secret
sharing) over the prime-order subgroup of Ed25519 (the group Belenios calls "Ed25519").

Modules: group (points and scalars, from libsodium through PyNaCl), proofs (Fiat-Shamir proofs),
ballot (encrypting and checking a ballot), trustees (the key ceremony and decryption shares),
counting (sums per group, small groups pooled, decryption to counts).
"""

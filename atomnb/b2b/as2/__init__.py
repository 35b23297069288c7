"""AS2 (RFC 4130) with pyas2lib: send to partners, receive on the atom, MDNs checked and recorded.

- ``send_as2(docs, partner=...)`` (``atomnb.b2b.as2.send``): sign, compress, encrypt as
  the partner's ``as2:`` settings say, POST, check a synchronous MDN or record that an
  asynchronous one is awaited.
- ``atomnb.atom.api.as2``: the atom's ``/as2/<partner>`` and ``/as2/<partner>/mdn`` routes.
- ``atomnb.b2b.as2.records``: every message and its MDN in the store, with its execution.
- ``atomnb.b2b.as2.exchange``: messages and MDNs as bytes (build, parse, verify).

pyas2lib needs oscrypto, whose release cannot read OpenSSL 3.0.10+'s version:
``oscrypto_fix`` loads it with the upstream fix (see there). Nothing here imports
pyas2lib until a message is built or read, so ``import atomnb`` stays cheap.
"""

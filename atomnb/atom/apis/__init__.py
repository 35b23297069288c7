"""Published API components on the atom: the APIs deployed, their callers, limits and answers.

``registry`` keeps the deployed APIs (from the store) and matches paths to
routes; ``auth`` checks API keys, HTTP basic and JWT bearer tokens; ``ratelimit``
holds a token bucket per caller; ``openapi`` builds each API's OpenAPI 3.1
document from its profiles; ``problems`` answers refusals as RFC 9457
``application/problem+json``; ``dispatch`` serves a request by running its
process as the listener does; ``definition`` checks and records APIs when a
package that carries them is deployed.
"""

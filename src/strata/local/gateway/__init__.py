"""The local API Gateway: REST APIs, HTTP APIs and function URLs of the deployed stacks, each on its own loopback port,
answering HTTP through the local Lambda service's Invoke path (``routes`` reads what is deployed, ``payloads`` shapes
events and responses as API Gateway does, ``app`` is one listener's request pipeline, ``service`` runs the listeners
inside ``strata serve``)."""

"""Checkout: the flows that span domains to sell something. Placing and cancelling orders
(current rates, landed cost, refunds), the delivered price of a catalogue item, and what a
payment change means for its order and the sellers' ledger. It calls the domain services below
it; none of them imports it."""

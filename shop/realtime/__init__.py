"""Live updates: the websockets of this process (`subscriber`), the hub the services
publish to (`hub`), and the Redis bus that joins the hubs of several processes (`bus`)."""

from shop.realtime.hub import Hub, end_session_sockets
from shop.realtime.subscriber import SESSION_ENDED, Subscriber

__all__ = ["SESSION_ENDED", "Hub", "Subscriber", "end_session_sockets"]

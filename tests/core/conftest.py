from tests.support.live import live_servers

__all__ = ["live_servers"]

"""Who is at the other end of a request, as the auth service records it on a session."""

from fastapi import Request

from bookly.auth.service import ClientInfo


def client_info(request: Request) -> ClientInfo:
    return ClientInfo(user_agent=request.headers.get("user-agent", ""), ip=client_ip(request))


def client_ip(request: Request) -> str:
    # uvicorn has applied X-Forwarded-For from FORWARDED_ALLOW_IPS, as for the API's routes.
    return request.client.host if request.client else ""

#!/usr/bin/env python3
"""Holds N server-sent-event streams open against Compute Studio and counts what arrives.

    scripts/sse-clients.py URL COOKIES N

COOKIES is one or more session cookies separated by commas (one per person); the N streams are
spread over them in turn.

Runs until SIGTERM/SIGINT, then prints "streams=N open=M events=E" (one line). Used by
scripts/bench to measure the list page while many pages are open.
"""
import asyncio
import signal
import sys
from urllib.parse import urlparse


async def one_stream(host, port, path, cookie, counts):
    try:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
            f"Cookie: {cookie}\r\n\r\n".encode()
        )
        await writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            counts["failed"] += 1
            return
        counts["open"] += 1
        # Count events in whole chunks: the load generator shares the server's two cores, so
        # it must cost as little as it can.
        tail = b""
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            data = tail + chunk
            counts["events"] += data.count(b"\nevent:")
            tail = data[-6:]
    except (ConnectionError, OSError):
        counts["failed"] += 1
    finally:
        counts["open"] = max(0, counts["open"])


async def main():
    url, cookies, n = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
    parsed = urlparse(url)
    counts = {"open": 0, "events": 0, "failed": 0}
    tasks = [
        asyncio.create_task(
            one_stream(parsed.hostname, parsed.port, parsed.path, cookies[i % len(cookies)], counts)
        )
        for i in range(n)
    ]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    print(f"streams={n} open={counts['open']} events={counts['events']} failed={counts['failed']}", flush=True)
    for task in tasks:
        task.cancel()


asyncio.run(main())

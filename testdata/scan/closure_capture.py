def process(large_data):
    result = len(large_data)
    return lambda: print(f"processed {len(large_data)} items")  # expect: closure_capture@5


def process_small(large_data):
    """Near miss: only the count is captured."""
    count = len(large_data)
    return lambda: print(f"processed {count} items")


def decorator(func):
    """Near miss: a decorator capturing the function is not large."""

    def wrapper(*args):
        return func(*args)

    return wrapper


def make_handler(payload, bus):
    def handler(event):
        return payload.get(event)

    bus.subscribe("x", handler)  # expect: closure_capture@5


def local_only(data):
    """Near miss: the lambda does not outlive the call."""
    key = lambda x: x in data
    return sorted(data, key=key)

"""Domain events out (issue 16): DynamoDB stream records -> domain events -> the EventBridge bus.

`mapping` is pure (a stream record in, its events out); `publisher` sends them. See docs/events.md.
"""

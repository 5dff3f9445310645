-- Version 6: the W3C trace context (traceparent/tracestate) of the code that enqueued a task, so
-- the attempt's span continues the enqueuer's trace on whichever node runs it.
ALTER TABLE {schema}.task ADD COLUMN trace jsonb;

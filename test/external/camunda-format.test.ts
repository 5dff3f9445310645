/**
 * Camunda's typed variables and dates, both ways (pure functions, no database).
 */
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../src/index.js";
import { camundaDate, retriesOf, taskVariables, typedValue, variablesToResult } from "../../src/external/camunda.js";
import type { ExternalTask } from "../../src/external/types.js";

const task = (over: Partial<ExternalTask>): ExternalTask => ({
  id: "1", topic: "t", state: "running", payload: null, priority: 0, attempt: 1, maxAttempts: 3, workerId: "w", lockExpiresAt: null,
  key: null, processId: null, processKey: null, processName: null, step: null, error: null, result: null, createdAt: new Date(0), ...over,
});

describe("Camunda variables", () => {
  it("types JSON values as Camunda reports them", () => {
    expect(typedValue(2 ** 31 - 1).type).toBe("Integer");
    expect(typedValue(2 ** 31).type).toBe("Long");
    expect(typedValue(-(2 ** 31)).type).toBe("Integer");
    expect(typedValue(1e300).type).toBe("Double");
    expect(typedValue(0.5).type).toBe("Double");
    expect(typedValue([]).value).toBe("[]");
    expect(typedValue(undefined)).toEqual({ type: "Null", value: null, valueInfo: {} });
  });

  it("offers a non-object payload as one variable named payload; later sources win", () => {
    expect(taskVariables(task({ payload: [1, 2] }))).toEqual({ payload: { type: "Json", value: "[1,2]", valueInfo: {} } });
    const step = task({ processId: "9", processInput: { a: 1, b: 1 }, parentResults: [{ b: 2, c: 2 }, "not an object"], payload: { c: 3 } });
    expect(taskVariables(step)).toEqual({
      a: { type: "Integer", value: 1, valueInfo: {} }, b: { type: "Integer", value: 2, valueInfo: {} }, c: { type: "Integer", value: 3, valueInfo: {} },
    });
  });

  it("reads typed variables back into plain JSON, rejecting values that do not match their type", () => {
    const sent = JSON.parse('{"__proto__": {"value": 1, "type": "Integer"}, "flag": {"value": "true", "type": "Boolean"}, "d": {"value": "2024-01-01T00:00:00.000+0000", "type": "Date"}}');
    const result = variablesToResult(sent, undefined)!;
    expect(Object.keys(result)).toEqual(["__proto__", "flag", "d"]);
    expect(JSON.stringify(result)).toBe('{"__proto__":1,"flag":true,"d":"2024-01-01T00:00:00.000+0000"}');
    expect(variablesToResult(undefined, null)).toBeNull();
    expect(variablesToResult({})).toEqual({});
    for (const bad of [{ x: { value: "abc", type: "Long" } }, { x: { value: "{", type: "Json" } }, { x: { value: 1, type: "String" } }, { x: 5 }, { x: { value: 1, type: 3 } }]) {
      expect(() => variablesToResult(bad)).toThrow(ValidationError);
    }
    expect(() => variablesToResult([])).toThrow(ValidationError);
  });

  it("writes dates as Camunda does and counts retries like Camunda", () => {
    expect(camundaDate(new Date("2024-05-01T10:00:00Z"))).toBe("2024-05-01T10:00:00.000+0000");
    expect(camundaDate(null)).toBeNull();
    expect(retriesOf(task({ state: "running", attempt: 1, maxAttempts: 3 }))).toBe(3);
    expect(retriesOf(task({ state: "ready", attempt: 1, maxAttempts: 3 }))).toBe(2);
    expect(retriesOf(task({ state: "failed", attempt: 1, maxAttempts: 3 }))).toBe(0);
  });
});

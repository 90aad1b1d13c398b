import type { MessageInitShape } from "@bufbuild/protobuf";
import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import {
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
} from "@bufbuild/protobuf/wkt";
import { Code, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatService } from "../../../gen/chat/v1/chat_pb.js";
import * as v1 from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { DescriptorIndex } from "../../../src/server/reflection/descriptor-index.js";
import { startTestServer, type TransportName, transportFor } from "../../helpers/test-server.js";

let server: ParleyServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

type Request = MessageInitShape<typeof v1.ServerReflectionRequestSchema>;
type Answer = v1.ServerReflectionResponse["messageResponse"];

const REFLECTION = {
  v1: v1.ServerReflection,
  v1alpha: v1alpha.ServerReflection,
} as const;

/**
 * Send `requests` on one reflection stream and return the answers. Both
 * versions are asked the same v1-shaped questions (the messages are the same
 * field for field); answers come back as v1 shapes for the same reason.
 */
async function ask(
  version: keyof typeof REFLECTION,
  transport: TransportName,
  requests: Request[],
): Promise<v1.ServerReflectionResponse[]> {
  const client = createClient(REFLECTION[version], transportFor(transport, server.url));
  async function* stream() {
    for (const r of requests) yield r;
  }
  const answers: v1.ServerReflectionResponse[] = [];
  for await (const res of client.serverReflectionInfo(stream())) {
    expect(res.$typeName).toBe(`grpc.reflection.${version}.ServerReflectionResponse`);
    answers.push(res as unknown as v1.ServerReflectionResponse);
  }
  return answers;
}

async function askOne(
  version: keyof typeof REFLECTION,
  request: Request,
  transport: TransportName = "grpc-h2",
): Promise<Answer> {
  const answers = await ask(version, transport, [request]);
  expect(answers).toHaveLength(1);
  return (answers[0] as v1.ServerReflectionResponse).messageResponse;
}

function decodedFiles(answer: Answer): FileDescriptorProto[] {
  if (answer.case !== "fileDescriptorResponse") {
    throw new Error(`expected file_descriptor_response, got ${JSON.stringify(answer)}`);
  }
  return answer.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
}

const CHAT_FILES = [
  "chat/v1/chat.proto",
  "google/protobuf/field_mask.proto",
  "google/protobuf/timestamp.proto",
];

describe.each(["v1", "v1alpha"] as const)("grpc.reflection.%s", (version) => {
  it("lists exactly the services the server mounts, on gRPC and Connect", async () => {
    for (const transport of ["grpc-h2", "connect-h2"] as const) {
      const answer = await askOne(
        version,
        { messageRequest: { case: "listServices", value: "" } },
        transport,
      );
      expect(answer.case).toBe("listServicesResponse");
      expect(
        answer.case === "listServicesResponse" && answer.value.service.map((s) => s.name),
      ).toEqual([
        "chat.v1.ChatService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
      ]);
    }
  });

  it.each(["chat.v1.ChatService", "chat.v1.ChatMessage", "chat.v1.ChatService.Send"])(
    "file_containing_symbol %s returns chat.proto first, then its imports",
    async (symbol) => {
      const files = decodedFiles(
        await askOne(version, { messageRequest: { case: "fileContainingSymbol", value: symbol } }),
      );
      expect(files.map((f) => f.name)).toEqual(CHAT_FILES);
      const chat = files[0] as FileDescriptorProto;
      expect(chat.package).toBe("chat.v1");
      expect(chat.dependency).toEqual(CHAT_FILES.slice(1));
      expect(chat.service.map((s) => s.name)).toEqual(["ChatService"]);
      expect(chat.service[0]?.method.map((m) => m.name)).toEqual([
        "Send",
        "Listener",
        "Subscribe",
        "Echo",
        "Chat",
        "History",
        "ListRooms",
        "ListMembers",
        "SetTyping",
        "Login",
        "JoinRoom",
        "LeaveRoom",
        "ListMyRooms",
        "MarkRead",
        "OpenConversation",
        "Feed",
      ]);
      const send = chat.service[0]?.method[0];
      expect([send?.inputType, send?.outputType]).toEqual([
        ".chat.v1.SendRequest",
        ".chat.v1.SendResponse",
      ]);
      const message = chat.messageType.find((m) => m.name === "ChatMessage");
      expect(message?.field.map((f) => [f.name, f.number, f.jsonName])).toEqual([
        ["room", 1, "room"],
        ["seq", 2, "seq"],
        ["id", 3, "id"],
        ["author", 4, "author"],
        ["text", 5, "text"],
        ["sent_at", 6, "sentAt"],
        ["client_message_id", 7, "clientMessageId"],
      ]);
      expect(files[1]?.messageType.map((m) => m.name)).toEqual(["FieldMask"]);
      expect(files[2]?.messageType.map((m) => m.name)).toEqual(["Timestamp"]);

      // The answer is self-contained: a registry builds from it alone (it
      // throws on an import it cannot resolve) and resolves the service.
      const registry = createFileRegistry(
        create(FileDescriptorSetSchema, { file: [...files].reverse() }),
      );
      expect(
        registry.getService("chat.v1.ChatService")?.methods.map((m) => m.input.typeName),
      ).toEqual([
        "chat.v1.SendRequest",
        "chat.v1.ListenerRequest",
        "chat.v1.SubscribeRequest",
        "chat.v1.EchoRequest",
        "chat.v1.ChatRequest",
        "chat.v1.HistoryRequest",
        "chat.v1.ListRoomsRequest",
        "chat.v1.ListMembersRequest",
        "chat.v1.SetTypingRequest",
        "chat.v1.LoginRequest",
        "chat.v1.JoinRoomRequest",
        "chat.v1.LeaveRoomRequest",
        "chat.v1.ListMyRoomsRequest",
        "chat.v1.MarkReadRequest",
        "chat.v1.OpenConversationRequest",
        "chat.v1.FeedRequest",
      ]);
    },
  );

  it.each([
    ["chat.v1.ChatMessage.sent_at", "chat/v1/chat.proto"],
    ["chat.v1.RoomEvent.event", "chat/v1/chat.proto"],
    ["grpc.health.v1.HealthCheckResponse.ServingStatus", "health/v1/health.proto"],
    ["grpc.health.v1.HealthCheckResponse.NOT_SERVING", "health/v1/health.proto"],
    ["grpc.health.v1.Health.Watch", "health/v1/health.proto"],
    ["google.protobuf.Timestamp", "google/protobuf/timestamp.proto"],
    [`grpc.reflection.${version}.ServerReflection`, `grpc/reflection/${version}/reflection.proto`],
  ])("file_containing_symbol finds nested symbol %s in %s", async (symbol, file) => {
    const files = decodedFiles(
      await askOne(version, { messageRequest: { case: "fileContainingSymbol", value: symbol } }),
    );
    expect(files[0]?.name).toBe(file);
  });

  it("file_by_filename returns the file and its imports, each once", async () => {
    const health = decodedFiles(
      await askOne(version, {
        messageRequest: { case: "fileByFilename", value: "health/v1/health.proto" },
      }),
    );
    expect(health.map((f) => f.name)).toEqual(["health/v1/health.proto"]);
    expect(health[0]?.service[0]?.method.map((m) => m.name)).toEqual(["Check", "Watch", "List"]);
    const timestamp = decodedFiles(
      await askOne(version, {
        messageRequest: { case: "fileByFilename", value: "google/protobuf/timestamp.proto" },
      }),
    );
    expect(timestamp.map((f) => f.name)).toEqual(["google/protobuf/timestamp.proto"]);
  });

  it.each<[string, Request, string]>([
    [
      "an unknown symbol",
      { messageRequest: { case: "fileContainingSymbol", value: "chat.v1.Nope" } },
      'file_containing_symbol: no symbol "chat.v1.Nope" on this server',
    ],
    [
      "an unknown file",
      { messageRequest: { case: "fileByFilename", value: "chat/v1/nope.proto" } },
      'file_by_filename: no file "chat/v1/nope.proto" on this server',
    ],
    [
      "an extension nobody declares",
      {
        messageRequest: {
          case: "fileContainingExtension",
          value: { containingType: "chat.v1.ChatMessage", extensionNumber: 100 },
        },
      },
      'file_containing_extension: no extension 100 of "chat.v1.ChatMessage" on this server',
    ],
    [
      "extension numbers of an unknown type",
      { messageRequest: { case: "allExtensionNumbersOfType", value: "chat.v1.Nope" } },
      'all_extension_numbers_of_type: no message type "chat.v1.Nope" on this server',
    ],
  ])("%s is answered with error_response NOT_FOUND and the name", async (_, request, message) => {
    const answer = await askOne(version, request);
    expect(answer).toEqual({
      case: "errorResponse",
      value: expect.objectContaining({ errorCode: 5, errorMessage: message }),
    });
  });

  it("extension numbers of a known type without extensions: an empty list", async () => {
    const answer = await askOne(version, {
      messageRequest: { case: "allExtensionNumbersOfType", value: "chat.v1.ChatMessage" },
    });
    expect(answer.case).toBe("allExtensionNumbersResponse");
    expect(answer.case === "allExtensionNumbersResponse" && answer.value).toMatchObject({
      baseTypeName: "chat.v1.ChatMessage",
      extensionNumber: [],
    });
  });

  it("a request without a question is INVALID_ARGUMENT, and the stream goes on", async () => {
    const answers = await ask(version, "grpc-h2", [
      { host: "example.test" },
      {
        host: "example.test",
        messageRequest: { case: "fileContainingSymbol", value: "chat.v1.Ready" },
      },
    ]);
    expect(answers.map((a) => a.validHost)).toEqual(["example.test", "example.test"]);
    expect(answers[0]?.messageResponse).toEqual({
      case: "errorResponse",
      value: expect.objectContaining({
        errorCode: Code.InvalidArgument,
        errorMessage:
          "message_request: set one of list_services, file_by_filename, file_containing_symbol, file_containing_extension, all_extension_numbers_of_type",
      }),
    });
    expect(answers[1]?.originalRequest?.messageRequest).toEqual({
      case: "fileContainingSymbol",
      value: "chat.v1.Ready",
    });
    expect(decodedFiles(answers[1]?.messageResponse as Answer)[0]?.name).toBe("chat/v1/chat.proto");
  });
});

// The served files declare no extensions, so the index's extension lookups
// are checked here on a file built for the purpose.
describe("DescriptorIndex", () => {
  const registry = createFileRegistry(
    create(FileDescriptorProtoSchema, {
      name: "test/ext.proto",
      package: "test",
      syntax: "proto2",
      messageType: [
        {
          name: "Base",
          extensionRange: [{ start: 100, end: 200 }],
          nestedType: [
            {
              name: "Inner",
              extension: [
                { name: "inner_ext", number: 150, label: 1, type: 9, extendee: ".test.Base" },
              ],
            },
          ],
        },
      ],
      extension: [{ name: "top_ext", number: 101, label: 1, type: 5, extendee: ".test.Base" }],
      service: [
        {
          name: "Svc",
          method: [{ name: "Do", inputType: ".test.Base", outputType: ".test.Base" }],
        },
      ],
    }),
    () => undefined,
  );
  const service = registry.getService("test.Svc");
  if (!service) throw new Error("test.Svc did not build");
  const index = new DescriptorIndex([service, service, ChatService]);

  it("indexes each served service once, sorted", () => {
    expect(index.serviceNames).toEqual(["chat.v1.ChatService", "test.Svc"]);
  });

  it("finds extensions, top-level and nested, by extendee and number", () => {
    expect(index.extensionNumbersOf("test.Base")).toEqual([101, 150]);
    expect(index.extensionNumbersOf("test.Base.Inner")).toEqual([]);
    expect(index.extensionNumbersOf("test.Nope")).toBeUndefined();
    expect(index.fileContainingExtension("test.Base", 150)?.proto.name).toBe("test/ext.proto");
    expect(index.fileContainingExtension("test.Base", 101)?.proto.name).toBe("test/ext.proto");
    expect(index.fileContainingExtension("test.Base", 102)).toBeUndefined();
    expect(index.fileContainingSymbol("test.Base.Inner.inner_ext")?.proto.name).toBe(
      "test/ext.proto",
    );
    expect(index.fileContainingSymbol("test.top_ext")?.proto.name).toBe("test/ext.proto");
  });

  it("is not fooled by a prefix of a name", () => {
    expect(index.fileContainingSymbol("test")).toBeUndefined();
    expect(index.fileContainingSymbol("chat.v1.ChatService.Sen")).toBeUndefined();
    expect(index.fileByName("chat/v1/chat")).toBeUndefined();
  });
});

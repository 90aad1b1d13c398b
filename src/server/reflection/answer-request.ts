import type { MessageInitShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import {
  type ServerReflectionRequest,
  type ServerReflectionResponse,
  ServerReflectionResponseSchema,
} from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import type { DescriptorIndex } from "./descriptor-index.js";

type Answer = MessageInitShape<typeof ServerReflectionResponseSchema>["messageResponse"];

/**
 * Answer one server reflection request (grpc.reflection.v1; v1alpha is the
 * same on the wire). A name the index does not know is answered in-band with
 * an error_response (NOT_FOUND) rather than by ending the stream, so a client
 * can go on asking, as gRPC's own reflection servers do.
 */
export function answerReflectionRequest(
  index: DescriptorIndex,
  req: ServerReflectionRequest,
): ServerReflectionResponse {
  return create(ServerReflectionResponseSchema, {
    validHost: req.host,
    originalRequest: req,
    messageResponse: answer(index, req.messageRequest),
  });
}

function answer(index: DescriptorIndex, ask: ServerReflectionRequest["messageRequest"]): Answer {
  switch (ask.case) {
    case "listServices":
      // The field's value is ignored, as the protocol says.
      return {
        case: "listServicesResponse",
        value: { service: index.serviceNames.map((name) => ({ name })) },
      };
    case "fileByFilename": {
      const file = index.fileByName(ask.value);
      return file
        ? files(index.withDependencies(file))
        : notFound(`file_by_filename: no file "${ask.value}" on this server`);
    }
    case "fileContainingSymbol": {
      const file = index.fileContainingSymbol(ask.value);
      return file
        ? files(index.withDependencies(file))
        : notFound(`file_containing_symbol: no symbol "${ask.value}" on this server`);
    }
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = ask.value;
      const file = index.fileContainingExtension(containingType, extensionNumber);
      return file
        ? files(index.withDependencies(file))
        : notFound(
            `file_containing_extension: no extension ${extensionNumber} of "${containingType}" on this server`,
          );
    }
    case "allExtensionNumbersOfType": {
      const numbers = index.extensionNumbersOf(ask.value);
      return numbers
        ? {
            case: "allExtensionNumbersResponse",
            value: { baseTypeName: ask.value, extensionNumber: numbers },
          }
        : notFound(`all_extension_numbers_of_type: no message type "${ask.value}" on this server`);
    }
    case undefined:
      return error(
        Code.InvalidArgument,
        "message_request: set one of list_services, file_by_filename, file_containing_symbol, file_containing_extension, all_extension_numbers_of_type",
      );
  }
}

function files(fileDescriptorProto: Uint8Array[]): Answer {
  return { case: "fileDescriptorResponse", value: { fileDescriptorProto } };
}

function notFound(message: string): Answer {
  return error(Code.NotFound, message);
}

function error(code: Code, errorMessage: string): Answer {
  // connect's Code enum uses the gRPC status numbers (NOT_FOUND = 5).
  return { case: "errorResponse", value: { errorCode: code, errorMessage } };
}

import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import * as v1 from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { clientFaultRequests } from "../../calls/parse-fault.js";
import { abortable } from "../../chat/abortable.js";
import { answerReflectionRequest } from "./answer-request.js";
import { DescriptorIndex } from "./descriptor-index.js";

/**
 * Serve gRPC server reflection on `router`, as grpc.reflection.v1 and
 * grpc.reflection.v1alpha (older clients ask only for that one; buf curl and
 * grpcurl try v1 first). It describes every service the router serves,
 * itself included: the index is built from `router.handlers` on the first
 * request, when all services are mounted, whatever the order of mounting.
 */
export function mountReflection(router: ConnectRouter): void {
  let index: DescriptorIndex | undefined;
  const served = () => {
    index ??= new DescriptorIndex(router.handlers.map((h) => h.service));
    return index;
  };
  router.service(v1.ServerReflection, {
    // Bidi request streams never end by themselves on shutdown: read through
    // abortable. A request that does not decode is INVALID_ARGUMENT (clientFaultRequests).
    async *serverReflectionInfo(requests, ctx) {
      for await (const req of abortable(clientFaultRequests(requests), ctx.signal)) {
        yield answerReflectionRequest(served(), req);
      }
    },
  });
  router.service(v1alpha.ServerReflection, {
    async *serverReflectionInfo(requests, ctx) {
      for await (const req of abortable(clientFaultRequests(requests), ctx.signal)) {
        // v1alpha and v1 are the same messages under another package: convert
        // through the wire format and answer with the one implementation.
        const asV1 = fromBinary(
          v1.ServerReflectionRequestSchema,
          toBinary(v1alpha.ServerReflectionRequestSchema, req),
        );
        yield fromBinary(
          v1alpha.ServerReflectionResponseSchema,
          toBinary(v1.ServerReflectionResponseSchema, answerReflectionRequest(served(), asV1)),
        );
      }
    },
  });
}

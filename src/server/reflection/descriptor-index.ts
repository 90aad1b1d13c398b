import type { DescFile, DescMessage, DescService } from "@bufbuild/protobuf";
import { toBinary } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";

/**
 * What server reflection can answer about: the services a server mounts, the
 * files that declare them and every file those import, indexed by file name,
 * by fully-qualified symbol and by extension. Built from the descriptors
 * protobuf-es embeds in the generated code, so it always matches what is
 * served.
 */
export class DescriptorIndex {
  /** Fully-qualified names of the served services, sorted. */
  readonly serviceNames: readonly string[];
  private readonly files = new Map<string, DescFile>();
  private readonly symbols = new Map<string, DescFile>();
  private readonly messages = new Set<string>();
  /** Extendee type name -> field number -> the file declaring the extension. */
  private readonly extensions = new Map<string, Map<number, DescFile>>();
  private readonly encoded = new Map<DescFile, Uint8Array>();

  /** Index the given services (duplicates are ignored) and every file they need. */
  constructor(services: Iterable<DescService>) {
    const names = new Set<string>();
    for (const service of services) {
      names.add(service.typeName);
      this.addFile(service.file);
    }
    this.serviceNames = [...names].sort();
  }

  /** The file with this name (as in an import: "chat/v1/chat.proto"). */
  fileByName(name: string): DescFile | undefined {
    return this.files.get(name);
  }

  /**
   * The file declaring this fully-qualified symbol: a service, method,
   * message, field, oneof, enum, enum value or extension, nested or not.
   */
  fileContainingSymbol(symbol: string): DescFile | undefined {
    return this.symbols.get(symbol);
  }

  /** The file declaring extension `number` of message type `typeName`. */
  fileContainingExtension(typeName: string, number: number): DescFile | undefined {
    return this.extensions.get(typeName)?.get(number);
  }

  /**
   * The field numbers of every known extension of message type `typeName`,
   * ascending; undefined when no indexed file declares that message type.
   */
  extensionNumbersOf(typeName: string): number[] | undefined {
    if (!this.messages.has(typeName)) return undefined;
    return [...(this.extensions.get(typeName)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /**
   * The serialized FileDescriptorProto of `file` first, then those of every
   * file it imports, transitively, each once: a client gets everything it
   * needs to resolve the file's types in one answer (google/protobuf/... too).
   */
  withDependencies(file: DescFile): Uint8Array[] {
    const order: DescFile[] = [file];
    const seen = new Set(order);
    for (let i = 0; i < order.length; i++) {
      for (const dep of order[i]?.dependencies ?? []) {
        if (!seen.has(dep)) {
          seen.add(dep);
          order.push(dep);
        }
      }
    }
    return order.map((f) => this.encode(f));
  }

  private encode(file: DescFile): Uint8Array {
    let bytes = this.encoded.get(file);
    if (!bytes) {
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      this.encoded.set(file, bytes);
    }
    return bytes;
  }

  private addFile(file: DescFile): void {
    if (this.files.has(file.proto.name)) return;
    this.files.set(file.proto.name, file);
    for (const type of nestedTypes(file)) {
      this.symbols.set(type.typeName, file);
      switch (type.kind) {
        case "service":
          for (const method of type.methods)
            this.symbols.set(`${type.typeName}.${method.name}`, file);
          break;
        case "message":
          this.addMessageMembers(type, file);
          break;
        case "enum": {
          // Enum values are siblings of their enum in the name scope (C++ rules).
          const scope = type.typeName.slice(0, type.typeName.length - type.name.length);
          for (const value of type.values) this.symbols.set(`${scope}${value.name}`, file);
          break;
        }
        case "extension": {
          const byNumber = this.extensions.get(type.extendee.typeName) ?? new Map();
          byNumber.set(type.number, file);
          this.extensions.set(type.extendee.typeName, byNumber);
          break;
        }
      }
    }
    for (const dep of file.dependencies) this.addFile(dep);
  }

  private addMessageMembers(message: DescMessage, file: DescFile): void {
    this.messages.add(message.typeName);
    for (const field of message.fields) this.symbols.set(`${message.typeName}.${field.name}`, file);
    for (const oneof of message.oneofs) this.symbols.set(`${message.typeName}.${oneof.name}`, file);
  }
}

// The part of ONNX's protobuf schema (onnx.proto, IR version 7+) PruneScope reads and writes,
// as a protobufjs JSON descriptor written from the public specification. Fields PruneScope does
// not model (training info, functions, sparse tensors, quantization annotations) are left out:
// protobuf skips unknown fields when decoding, and they are refused where they would matter.
import * as protobuf from 'protobufjs';

const f = (type: string, id: number, rule?: 'repeated') => ({ type, id, ...(rule ? { rule } : {}) });

const descriptor = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: f('int64', 1),
            opsetImport: f('OperatorSetIdProto', 8, 'repeated'),
            producerName: f('string', 2),
            producerVersion: f('string', 3),
            domain: f('string', 4),
            modelVersion: f('int64', 5),
            docString: f('string', 6),
            graph: f('GraphProto', 7),
            metadataProps: f('StringStringEntryProto', 14, 'repeated'),
            // Present only to be refused: a model that trains itself or calls functions.
            trainingInfo: f('bytes', 20, 'repeated'),
            functions: f('bytes', 25, 'repeated'),
          },
        },
        OperatorSetIdProto: { fields: { domain: f('string', 1), version: f('int64', 2) } },
        StringStringEntryProto: { fields: { key: f('string', 1), value: f('string', 2) } },
        GraphProto: {
          fields: {
            node: f('NodeProto', 1, 'repeated'),
            name: f('string', 2),
            initializer: f('TensorProto', 5, 'repeated'),
            sparseInitializer: f('bytes', 15, 'repeated'),
            docString: f('string', 10),
            input: f('ValueInfoProto', 11, 'repeated'),
            output: f('ValueInfoProto', 12, 'repeated'),
            valueInfo: f('ValueInfoProto', 13, 'repeated'),
          },
        },
        NodeProto: {
          fields: {
            input: f('string', 1, 'repeated'),
            output: f('string', 2, 'repeated'),
            name: f('string', 3),
            opType: f('string', 4),
            domain: f('string', 7),
            attribute: f('AttributeProto', 5, 'repeated'),
            docString: f('string', 6),
          },
        },
        AttributeProto: {
          fields: {
            name: f('string', 1),
            refAttrName: f('string', 21),
            docString: f('string', 13),
            type: f('int32', 20),
            f: f('float', 2),
            i: f('int64', 3),
            s: f('bytes', 4),
            t: f('TensorProto', 5),
            // Subgraphs (If, Loop, Scan) are refused; kept as bytes so they are never decoded.
            g: f('bytes', 6),
            floats: f('float', 7, 'repeated'),
            ints: f('int64', 8, 'repeated'),
            strings: f('bytes', 9, 'repeated'),
            tensors: f('TensorProto', 10, 'repeated'),
            graphs: f('bytes', 11, 'repeated'),
          },
        },
        ValueInfoProto: { fields: { name: f('string', 1), type: f('TypeProto', 2), docString: f('string', 3) } },
        TypeProto: { fields: { tensorType: f('TypeProtoTensor', 1), denotation: f('string', 6) } },
        TypeProtoTensor: { fields: { elemType: f('int32', 1), shape: f('TensorShapeProto', 2) } },
        TensorShapeProto: { fields: { dim: f('Dimension', 1, 'repeated') } },
        Dimension: { fields: { dimValue: f('int64', 1), dimParam: f('string', 2), denotation: f('string', 3) } },
        TensorProto: {
          fields: {
            dims: f('int64', 1, 'repeated'),
            dataType: f('int32', 2),
            floatData: f('float', 4, 'repeated'),
            int32Data: f('int32', 5, 'repeated'),
            stringData: f('bytes', 6, 'repeated'),
            int64Data: f('int64', 7, 'repeated'),
            name: f('string', 8),
            docString: f('string', 12),
            rawData: f('bytes', 9),
            externalData: f('StringStringEntryProto', 13, 'repeated'),
            dataLocation: f('int32', 14),
            doubleData: f('double', 10, 'repeated'),
            uint64Data: f('uint64', 11, 'repeated'),
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(descriptor);
export const ModelProto = root.lookupType('onnx.ModelProto');

/** TensorProto.DataType values PruneScope reads or writes. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, FLOAT16: 10, DOUBLE: 11 } as const;
/** AttributeProto.AttributeType values. */
export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

// Decoded messages, as far as PruneScope looks into them. protobufjs gives int64 as a number or a
// Long; `num` (onnx/decode.ts) turns either into a number.
export type Int64 = number | { low: number; high: number; unsigned?: boolean; toNumber?: () => number };

export interface TensorMsg {
  dims?: Int64[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: Int64[];
  doubleData?: number[];
  uint64Data?: Int64[];
  stringData?: Uint8Array[];
  name?: string;
  rawData?: Uint8Array;
  externalData?: { key?: string; value?: string }[];
  dataLocation?: number;
}

export interface AttributeMsg {
  name?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorMsg;
  g?: Uint8Array;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorMsg[];
  graphs?: Uint8Array[];
  refAttrName?: string;
}

export interface NodeMsg {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute?: AttributeMsg[];
}

export interface ValueInfoMsg {
  name?: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: { dimValue?: Int64; dimParam?: string }[] } } };
}

export interface GraphMsg {
  node?: NodeMsg[];
  name?: string;
  initializer?: TensorMsg[];
  sparseInitializer?: Uint8Array[];
  input?: ValueInfoMsg[];
  output?: ValueInfoMsg[];
  valueInfo?: ValueInfoMsg[];
}

export interface ModelMsg {
  irVersion?: Int64;
  opsetImport?: { domain?: string; version?: Int64 }[];
  producerName?: string;
  producerVersion?: string;
  graph?: GraphMsg;
  metadataProps?: { key?: string; value?: string }[];
  trainingInfo?: Uint8Array[];
  functions?: Uint8Array[];
}

import type { XmlElement } from '../xml-model.js';
import { EnumerationNode } from './enumeration.js';
import { ConverterNode, SwissKnifeNode } from './formula-nodes.js';
import { BooleanNode, CategoryNode, CommandNode, OpaqueNode, StringNode } from './misc.js';
import type { Node, NodeContext } from './node.js';
import { FloatNode, IntegerNode } from './numeric.js';
import {
  FloatRegNode,
  IntRegNode,
  MaskedIntRegNode,
  RawRegisterNode,
  StringRegNode,
} from './registers.js';

const CLASSES: Record<string, new (el: XmlElement, ctx: NodeContext) => Node> = {
  Category: CategoryNode,
  Integer: IntegerNode,
  Float: FloatNode,
  Boolean: BooleanNode,
  Enumeration: EnumerationNode,
  Command: CommandNode,
  String: StringNode,
  IntReg: IntRegNode,
  MaskedIntReg: MaskedIntRegNode,
  StructEntry: MaskedIntRegNode,
  FloatReg: FloatRegNode,
  StringReg: StringRegNode,
  Register: RawRegisterNode,
  Converter: ConverterNode,
  IntConverter: ConverterNode,
  SwissKnife: SwissKnifeNode,
  IntSwissKnife: SwissKnifeNode,
};

/** The node object for an XML element; unknown kinds (Port, IntKey, ...) stay opaque. */
export function createNode(el: XmlElement, ctx: NodeContext): Node {
  const Class = CLASSES[el.tag] ?? OpaqueNode;
  return new Class(el, ctx);
}

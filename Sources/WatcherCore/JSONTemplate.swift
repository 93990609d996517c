/// Any JSON value inside a pipeline spec (a main file's initial content), kept as compact JSON
/// text with the spec file's member order.
public struct JSONTemplate: Equatable, Sendable {
    public var text: [UInt8]

    public init(text: [UInt8]) { self.text = text }
    public init(_ string: String) { self.text = Array(string.utf8) }
}

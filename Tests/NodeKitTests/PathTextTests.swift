import NodeKit
import Testing

/// Paths as users write them split without trapping (Foundation's NSString version traps on `a`, `.` and `x/`).
@Suite struct PathTextTests {
    @Test(arguments: [
        ("a", "", "a"), (".", "", "."), ("x/", "", "x"), ("./", "", "."), ("models", "", "models"), ("a/b", "a", "b"),
        ("a/b/", "a", "b"), ("a/b/c", "a/b", "c"), ("/a", "/", "a"), ("/", "/", "/"), ("", "", ""), ("a//b", "a", "b"), ("../x", "..", "x"),
    ])
    func splits(path: String, parent: String, last: String) {
        #expect(PathText.parent(path) == parent, "parent of \(path)")
        #expect(PathText.lastComponent(path) == last, "last component of \(path)")
    }
}

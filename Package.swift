// swift-tools-version: 6.1
import PackageDescription

/// Settings every Sluice target shares: Swift 6 mode, strict concurrency, explicit `any`.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "sluice",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sluice", targets: ["sluice"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .target(name: "Columnar", swiftSettings: strict),
        .target(name: "Expressions", dependencies: ["Columnar"], swiftSettings: strict),
        .target(name: "NodeKit", dependencies: ["Columnar", "Expressions", .product(name: "Yams", package: "Yams")], swiftSettings: strict),
        .target(name: "Runtime", dependencies: ["NodeKit"], swiftSettings: strict),
        .target(name: "NodesFile", dependencies: ["NodeKit"], swiftSettings: strict),
        .target(name: "NodesTransform", dependencies: ["NodeKit"], swiftSettings: strict),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "NodesSQLite", dependencies: ["NodeKit", "CSQLite"], swiftSettings: strict),
        .target(
            name: "NodesPostgres",
            dependencies: [
                "NodeKit",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .target(name: "BuiltinNodes", dependencies: ["NodesFile", "NodesTransform", "NodesSQLite", "NodesPostgres"], swiftSettings: strict),
        .executableTarget(
            name: "sluice",
            dependencies: ["Runtime", "BuiltinNodes", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict),
        .target(name: "SluiceTestSupport", dependencies: ["Runtime", "BuiltinNodes"], path: "Tests/SluiceTestSupport", swiftSettings: strict),
        .testTarget(name: "ColumnarTests", dependencies: ["Columnar"], swiftSettings: strict),
        .testTarget(name: "ExpressionsTests", dependencies: ["Expressions"], resources: [.copy("Golden")], swiftSettings: strict),
        .testTarget(name: "NodeKitTests", dependencies: ["SluiceTestSupport", "NodeKit", "BuiltinNodes"], swiftSettings: strict),
        .testTarget(name: "RuntimeTests", dependencies: ["SluiceTestSupport", "Runtime", "BuiltinNodes"], swiftSettings: strict),
        .testTarget(name: "NodesFileTests", dependencies: ["SluiceTestSupport", "NodesFile", "Runtime", "BuiltinNodes"], swiftSettings: strict),
        .testTarget(name: "NodesTransformTests", dependencies: ["SluiceTestSupport", "NodesTransform", "Runtime", "BuiltinNodes"], swiftSettings: strict),
        .testTarget(name: "NodesSQLiteTests", dependencies: ["SluiceTestSupport", "NodesSQLite", "Runtime", "BuiltinNodes"], swiftSettings: strict),
        .testTarget(name: "NodesPostgresTests", dependencies: ["SluiceTestSupport", "NodesPostgres", "Runtime", "BuiltinNodes"], swiftSettings: strict),
        .testTarget(name: "EndToEndTests", dependencies: ["SluiceTestSupport", "Runtime", "BuiltinNodes"], swiftSettings: strict),
    ]
)

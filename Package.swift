// swift-tools-version: 6.1
import PackageDescription

/// Settings every Sluice target shares: Swift 6 mode, strict concurrency, explicit `any`.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

/// Every module a target imports is declared here, also when a dependency would bring it in anyway.
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")

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
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        .target(name: "Columnar", swiftSettings: strict),
        .target(name: "Expressions", dependencies: ["Columnar"], swiftSettings: strict),
        .target(name: "NodeKit", dependencies: ["Columnar", "Expressions", .product(name: "Yams", package: "Yams"), .product(name: "Mustache", package: "swift-mustache")],
                swiftSettings: strict),
        .target(name: "Runtime", dependencies: ["Columnar", "Expressions", "NodeKit"], swiftSettings: strict),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "NodesFile", dependencies: ["Columnar", "NodeKit", "CZlib"], swiftSettings: strict),
        .target(name: "NodesTransform", dependencies: ["Columnar", "Expressions", "NodeKit"], swiftSettings: strict),
        .target(
            name: "Scheduler",
            dependencies: ["Columnar", "Store", "Expressions", "NodeKit", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           crypto, logging, nioCore, .product(name: "NIOHTTP1", package: "swift-nio")],
            swiftSettings: strict),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "SQLiteAccess", dependencies: ["CSQLite"], swiftSettings: strict),
        .target(name: "PostgresAccess", dependencies: [.product(name: "PostgresNIO", package: "postgres-nio")], swiftSettings: strict),
        .target(name: "NodesSQLite", dependencies: ["Columnar", "Expressions", "NodeKit", "CSQLite", "SQLiteAccess"], swiftSettings: strict),
        .target(
            name: "NodesPostgres",
            dependencies: [
                "Columnar", "Expressions", "NodeKit", "PostgresAccess",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .target(
            name: "NodesMail",
            dependencies: [
                "Columnar", "NodeKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict),
        .target(
            name: "NodesHTTP",
            dependencies: [
                "Columnar", "NodeKit",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict),
        .target(
            name: "NodesS3",
            dependencies: [
                "NodeKit", crypto, nioCore,
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict),
        .target(
            name: "NodesSFTP",
            dependencies: [
                "NodeKit", crypto, nioCore,
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict),
        .target(name: "NodesSQL", dependencies: ["NodeKit", "Columnar", "Expressions"], swiftSettings: strict),
        .target(name: "BuiltinNodes", dependencies: ["NodeKit", "NodesFile", "NodesTransform", "NodesSQLite", "NodesPostgres", "NodesMail", "NodesHTTP", "NodesS3", "NodesSFTP", "NodesSQL"], swiftSettings: strict),
        .target(
            name: "Store",
            dependencies: [
                "NodeKit", "SQLiteAccess", "PostgresAccess", "CSQLite", nioCore,
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        .target(name: "Workers", dependencies: ["Columnar", "NodeKit", "Store", "Runtime", "BuiltinNodes", logging], swiftSettings: strict),
        .target(
            name: "Services",
            dependencies: ["Columnar", "NodeKit", "Store", "Workers", "Runtime", "BuiltinNodes", "Scheduler", crypto,
                           .product(name: "HummingbirdBcrypt", package: "hummingbird-auth")],
            swiftSettings: strict),
        .target(
            name: "Server",
            dependencies: [
                "Columnar", "Expressions", "NodeKit", "Store", "Workers", "Runtime", "BuiltinNodes", "Scheduler", "Services", crypto, logging, nioCore,
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "sluice",
            dependencies: ["Columnar", "Expressions", "NodeKit", "Store", "Runtime", "BuiltinNodes", "NodesSQL", "Server", "Scheduler", logging,
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict),
        .target(name: "SluiceTestSupport", dependencies: ["Columnar", "NodeKit", "Runtime", "BuiltinNodes"], path: "Tests/SluiceTestSupport", swiftSettings: strict),
        .testTarget(name: "ColumnarTests", dependencies: ["Columnar"], swiftSettings: strict),
        .testTarget(name: "ExpressionsTests", dependencies: ["Columnar", "Expressions"], resources: [.copy("Golden")], swiftSettings: strict),
        .testTarget(name: "NodeKitTests", dependencies: ["SluiceTestSupport", "Columnar", "NodeKit", "BuiltinNodes"], swiftSettings: strict),
        .testTarget(name: "RuntimeTests", dependencies: ["SluiceTestSupport", "Columnar", "NodeKit", "Runtime", "BuiltinNodes"], swiftSettings: strict),
        .testTarget(name: "NodesSFTPTests", dependencies: ["SluiceTestSupport", "NodeKit", "NodesSFTP", "Runtime", "BuiltinNodes", nioCore], swiftSettings: strict),
        .testTarget(name: "NodesS3Tests", dependencies: ["SluiceTestSupport", "NodeKit", "NodesS3", "Runtime", "BuiltinNodes", crypto, nioCore,
                                                      .product(name: "AsyncHTTPClient", package: "async-http-client")], swiftSettings: strict),
        .testTarget(name: "NodesFileTests", dependencies: ["SluiceTestSupport", "Columnar", "Expressions", "NodeKit", "NodesFile", "Runtime", "BuiltinNodes"], swiftSettings: strict),
        .testTarget(name: "NodesTransformTests", dependencies: ["SluiceTestSupport", "Columnar", "NodeKit", "NodesTransform", "Runtime", "BuiltinNodes"], swiftSettings: strict),
        .testTarget(name: "NodesSQLTests", dependencies: ["SluiceTestSupport", "Columnar", "NodeKit", "NodesSQL", "Runtime", "BuiltinNodes"], swiftSettings: strict),
        .testTarget(name: "NodesSQLiteTests", dependencies: ["SluiceTestSupport", "Columnar", "NodeKit", "NodesSQLite", "Runtime", "BuiltinNodes"], swiftSettings: strict),
        .testTarget(name: "NodesPostgresTests", dependencies: ["SluiceTestSupport", "Columnar", "NodeKit", "NodesPostgres", "Runtime", "BuiltinNodes"], swiftSettings: strict),
        .testTarget(name: "NodesMailTests", dependencies: ["SluiceTestSupport", "NodeKit", "NodesMail", "Runtime", "BuiltinNodes"], swiftSettings: strict),
        .testTarget(name: "SchedulerTests", dependencies: ["SluiceTestSupport", "NodeKit", "Scheduler", "Store", "BuiltinNodes", "NodesMail", "SQLiteAccess"], swiftSettings: strict),
        .testTarget(name: "WorkersTests", dependencies: ["SluiceTestSupport", "Workers", "Runtime", "Store", "NodeKit", "BuiltinNodes", logging], swiftSettings: strict),
        .testTarget(name: "StoreTests", dependencies: ["SluiceTestSupport", "Store"], swiftSettings: strict),
        .testTarget(
            name: "ServerTests",
            dependencies: ["SluiceTestSupport", "Server", "Store", "SQLiteAccess", .product(name: "HummingbirdTesting", package: "hummingbird"),
                           .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"), .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HTTPTypes", package: "swift-http-types"), crypto, logging, nioCore],
            swiftSettings: strict),
        .testTarget(name: "NodesHTTPTests", dependencies: ["SluiceTestSupport", "NodeKit", "NodesHTTP", "Runtime", "BuiltinNodes"], swiftSettings: strict),
        .testTarget(name: "ServicesTests", dependencies: ["SluiceTestSupport", "Services", "Store", "Scheduler", "NodeKit"], swiftSettings: strict),
        .testTarget(name: "EndToEndTests", dependencies: ["SluiceTestSupport", "NodeKit", "Runtime", "BuiltinNodes"], swiftSettings: strict),
    ]
)

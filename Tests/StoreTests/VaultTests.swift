import Foundation
import Store
import Testing

@Suite("Vault (SQLite and PostgreSQL)")
struct VaultTests {
    static let password = "correct horse battery staple"

    @Test(arguments: Backend.allCases)
    func sealOpenLockUnlock(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let vault = Vault(store: store)
            #expect(try await vault.status() == .uninitialized)
            await #expect(throws: VaultError.self) { try await vault.initialize(password: "short") }
            try await vault.initialize(password: Self.password)
            #expect(try await vault.status() == .unlocked)
            await #expect(throws: VaultError.self) { try await vault.initialize(password: Self.password) }

            let sealed = try await vault.seal(["password": "s3cret-value"], connectionID: "c1")
            #expect(!String(decoding: sealed.sealed, as: UTF8.self).contains("s3cret"))
            #expect(try await vault.open(sealed.sealed, connectionID: "c1", keyVersion: sealed.keyVersion) == ["password": "s3cret-value"])

            vault.lock()
            #expect(try await vault.status() == .locked)
            await #expect { _ = try await vault.open(sealed.sealed, connectionID: "c1", keyVersion: 1) } throws: { ($0 as? VaultError)?.code == .locked }
            await #expect { try await vault.unlock(password: "wrong password here") } throws: { ($0 as? VaultError)?.code == .wrongPassword }
            // A second process (a fresh Vault on the same store) unlocks with the password alone.
            let other = Vault(store: store)
            try await other.unlock(password: Self.password)
            #expect(try await other.open(sealed.sealed, connectionID: "c1", keyVersion: sealed.keyVersion) == ["password": "s3cret-value"])
        }
    }

    @Test(arguments: Backend.allCases)
    func tamperingIsDetected(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let vault = Vault(store: store)
            try await vault.initialize(password: Self.password)
            let sealed = try await vault.seal(["password": "pw"], connectionID: "c1")
            var flipped = sealed.sealed
            flipped[flipped.count / 2] ^= 0x01
            for (bytes, id, version) in [(flipped, "c1", sealed.keyVersion), (sealed.sealed, "c2", sealed.keyVersion), (sealed.sealed, "c1", sealed.keyVersion + 1)] {
                await #expect { _ = try await vault.open(bytes, connectionID: id, keyVersion: version) } throws: { ($0 as? VaultError)?.code == .tampered }
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func changePasswordAndRotate(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let vault = Vault(store: store)
            try await vault.initialize(password: Self.password)
            let ada = try await makeUser(store, "ada")
            let id = MetadataStore.newID()
            let sealed = try await vault.seal(["password": "db-pass"], connectionID: id)
            _ = try await store.createConnection(id: id, name: "warehouse", type: "postgres", settingsJSON: "{}", secretFields: ["password"], sealed: sealed, createdBy: ada.name)

            try await vault.changePassword(current: Self.password, new: "a brand new master password")
            vault.lock()
            await #expect { try await vault.unlock(password: Self.password) } throws: { ($0 as? VaultError)?.code == .wrongPassword }
            try await vault.unlock(password: "a brand new master password")

            let other = Vault(store: store)
            try await other.unlock(password: "a brand new master password")
            #expect(try await vault.rotateDataKey() == 1)
            let resealed = try #require(try await store.sealedSecrets(connectionID: id))
            #expect(resealed.keyVersion == 2 && resealed.sealed != sealed.sealed)
            #expect(try await vault.open(resealed.sealed, connectionID: id, keyVersion: 2) == ["password": "db-pass"])
            // The other process notices the new key version and follows without a new unlock.
            #expect(try await other.open(resealed.sealed, connectionID: id, keyVersion: 2) == ["password": "db-pass"])
        }
    }
}

namespace Vtpm.Tests.Interop;

/// <summary>tpm2_changeauth, tpm2_clear, tpm2_dictionarylockout, tpm2_readclock, tpm2_setclock.</summary>
[TestClass]
public sealed class InteropHierarchyTests
{
    public static IEnumerable<object[]> TargetsAndHierarchies =>
        from t in Vtpm.Tests.Support.Processes.TpmTarget.All
        from h in new[] { "owner", "endorsement", "lockout" }
        select new object[] { t, h };

    [TestMethod]
    [DynamicData(nameof(TargetsAndHierarchies))]
    public void ChangeAuthSetsTheNewPasswordAndTheOldOneStopsWorking(string target, string hierarchy)
    {
        using var t = InteropTpm.Start(target);
        t.Run("tpm2_changeauth", "-c", hierarchy, "first");
        var flag = hierarchy switch { "owner" => "ownerAuthSet", "endorsement" => "endorsementAuthSet", _ => "lockoutAuthSet" };
        Assert.AreEqual("1", InteropTpm.Field(t.Run("tpm2_getcap", "properties-variable").Stdout, flag));

        // The new password authorizes the next change; the empty (old) one does not.
        if (hierarchy == "lockout")
        {
            // Lockout: use it for a DA reset first, then change it; a wrong lockout password is tried last
            // because it locks lockoutAuth out for the recovery time (Part 1 §19.8.4).
            t.Run("tpm2_dictionarylockout", "-c", "-p", "first");
            t.Run("tpm2_changeauth", "-c", "lockout", "-p", "first", "second");
            t.Run("tpm2_dictionarylockout", "-c", "-p", "second");
            InteropTpm.AssertRc(t.Fail("tpm2_dictionarylockout", "-c", "-p", "first"), 0x98E); // TPM_RC_AUTH_FAIL, session 1
        }
        else
        {
            InteropTpm.AssertRc(t.Fail("tpm2_changeauth", "-c", hierarchy, "x"), 0x9A2); // TPM_RC_BAD_AUTH, session 1
            t.Run("tpm2_changeauth", "-c", hierarchy, "-p", "first", "second");
            InteropTpm.AssertRc(t.Fail("tpm2_changeauth", "-c", hierarchy, "-p", "first", "y"), 0x9A2);
            if (hierarchy == "owner")
                t.Run("tpm2_nvdefine", "0x1500016", "-C", "o", "-P", "second", "-s", "4", "-a", "ownerread|ownerwrite");
            else
                t.Run("tpm2_changeauth", "-c", hierarchy, "-p", "second", "");
        }
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void ClearRemovesOwnerIndicesAndResetsOwnerAuth(string target)
    {
        using var t = InteropTpm.Start(target);
        t.Run("tpm2_changeauth", "-c", "owner", "ownerpw");
        t.Run("tpm2_changeauth", "-c", "lockout", "lockpw");
        t.Run("tpm2_nvdefine", "0x1500016", "-C", "o", "-P", "ownerpw", "-s", "4", "-a", "ownerread|ownerwrite");
        Assert.AreEqual(1, t.Handles("handles-nv-index").Count);
        t.Run("tpm2_clear", "-c", "l", "lockpw");
        // Part 3 §24.6: owner-created indices are deleted, ownerAuth/endorsementAuth/lockoutAuth become empty.
        Assert.AreEqual(0, t.Handles("handles-nv-index").Count);
        var props = t.Run("tpm2_getcap", "properties-variable").Stdout;
        Assert.AreEqual("0", InteropTpm.Field(props, "ownerAuthSet"));
        Assert.AreEqual("0", InteropTpm.Field(props, "lockoutAuthSet"));
        t.Run("tpm2_nvdefine", "0x1500017", "-C", "o", "-s", "4", "-a", "ownerread|ownerwrite");
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void DictionaryLockoutParametersAreSetAndCounterClears(string target)
    {
        using var t = InteropTpm.Start(target);
        t.Run("tpm2_dictionarylockout", "-s", "-n", "7", "-t", "100", "-l", "200");
        var props = t.Run("tpm2_getcap", "properties-variable").Stdout;
        Assert.AreEqual(7ul, InteropTpm.Number(props, "TPM2_PT_MAX_AUTH_FAIL"));
        Assert.AreEqual(100ul, InteropTpm.Number(props, "TPM2_PT_LOCKOUT_INTERVAL"));
        Assert.AreEqual(200ul, InteropTpm.Number(props, "TPM2_PT_LOCKOUT_RECOVERY"));
        Assert.AreEqual(0ul, InteropTpm.Number(props, "TPM2_PT_LOCKOUT_COUNTER"));

        // Two failed authorizations on a DA-protected index count.
        t.Run("tpm2_nvdefine", "0x1500016", "-C", "o", "-s", "4", "-a", "authread|authwrite", "-p", "pw");
        t.Fail("tpm2_nvread", "0x1500016", "-C", "0x1500016", "-P", "bad1", "-s", "4");
        t.Fail("tpm2_nvread", "0x1500016", "-C", "0x1500016", "-P", "bad2", "-s", "4");
        Assert.AreEqual(2ul, InteropTpm.Number(t.Run("tpm2_getcap", "properties-variable").Stdout, "TPM2_PT_LOCKOUT_COUNTER"));
        t.Run("tpm2_dictionarylockout", "-c");
        props = t.Run("tpm2_getcap", "properties-variable").Stdout;
        Assert.AreEqual(0ul, InteropTpm.Number(props, "TPM2_PT_LOCKOUT_COUNTER"));
        Assert.AreEqual("0", InteropTpm.Field(props, "inLockout"));
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void ReadClockAdvancesAndResetCountCountsStartups(string target)
    {
        using var t = InteropTpm.Start(target);
        var first = t.Run("tpm2_readclock").Stdout;
        Thread.Sleep(300);
        var second = t.Run("tpm2_readclock").Stdout;
        ulong time1 = InteropTpm.Number(first, "time"), time2 = InteropTpm.Number(second, "time");
        ulong clock1 = InteropTpm.Number(first, "clock"), clock2 = InteropTpm.Number(second, "clock");
        Assert.IsTrue(time2 >= time1 + 250, $"time went from {time1} to {time2} over 300 ms");
        Assert.IsTrue(clock2 >= clock1 + 250, $"clock went from {clock1} to {clock2} over 300 ms");
        Assert.IsTrue(time2 - time1 < 30_000, $"time jumped from {time1} to {time2}");
        Assert.AreEqual("yes", InteropTpm.Field(second, "safe"));
        ulong resets = InteropTpm.Number(second, "reset_count");
        // A TPM Reset (_TPM_Init + Startup(CLEAR)) increments resetCount (Part 1 §36.4).
        t.Reboot();
        var third = t.Run("tpm2_readclock").Stdout;
        Assert.AreEqual(resets + 1, InteropTpm.Number(third, "reset_count"));
        Assert.AreEqual(0ul, InteropTpm.Number(third, "restart_count"));
        // No assertion on clock across the reset: Part 1 §36.3 lets Clock fall back to the last value saved
        // in NV, and swtpm does exactly that.
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void SetClockMovesClockForwardOnly(string target)
    {
        using var t = InteropTpm.Start(target);
        ulong now = InteropTpm.Number(t.Run("tpm2_readclock").Stdout, "clock");
        ulong future = now + 50_000_000;
        t.Run("tpm2_setclock", future.ToString(System.Globalization.CultureInfo.InvariantCulture));
        ulong after = InteropTpm.Number(t.Run("tpm2_readclock").Stdout, "clock");
        Assert.IsTrue(after >= future && after < future + 30_000, $"clock {after} after setting {future}");
        // Part 3 §29.2: a value lower than the current clock is TPM_RC_VALUE for parameter 1 (0x1C4).
        InteropTpm.AssertRc(t.Fail("tpm2_setclock", "1000"), 0x1C4);
        t.Run("tpm2_changeauth", "-c", "owner", "opw");
        InteropTpm.AssertRc(t.Fail("tpm2_setclock", (future + 100_000).ToString(System.Globalization.CultureInfo.InvariantCulture)), 0x9A2);
        t.Run("tpm2_setclock", "-p", "opw", (future + 100_000).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.IsTrue(InteropTpm.Number(t.Run("tpm2_readclock").Stdout, "clock") >= future + 100_000);
    }
}

// The seed scenarios from C# through P/Invoke, against libImSDK (found on LD_LIBRARY_PATH).
// No server address in the code: it comes from OPENTIM_SERVER_URL or opentim.json.
//
//   mono seed.exe bob CONFIG_DIR SIG     logs in, prints "ready", waits for alice's message
//   mono seed.exe alice CONFIG_DIR SIG   sends bob a message, lists, drafts, pins, counts unread
// Both start as Tencent's Unity wrapper does: callExperimentalAPI and TIMGetSDKVersion before
// TIMInit, TIMSetConfig after it.
using System;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;

static class Tim
{
    const string Lib = "libImSDK.so";

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    public delegate void CommCallback(int code, IntPtr desc, IntPtr jsonParams, IntPtr userData);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    public delegate void RecvNewMsgCallback(IntPtr jsonMsgArray, IntPtr userData);

    [DllImport(Lib)] public static extern int TIMInit(ulong sdkAppId, byte[] jsonSdkConfig);
    [DllImport(Lib)] public static extern int TIMUninit();
    [DllImport(Lib)] public static extern int TIMLogin(byte[] userId, byte[] userSig, CommCallback cb, IntPtr userData);
    [DllImport(Lib)] public static extern int TIMGetLoginUserID(byte[] userIdBuffer);
    [DllImport(Lib)] public static extern void TIMAddRecvNewMsgCallback(RecvNewMsgCallback cb, IntPtr userData);
    [DllImport(Lib)] public static extern void TIMRemoveRecvNewMsgCallback(RecvNewMsgCallback cb);
    [DllImport(Lib)] public static extern int TIMMsgSendMessage(byte[] convId, int convType, byte[] jsonMsgParam, byte[] messageIdBuffer, CommCallback cb, IntPtr userData);
    [DllImport(Lib)] public static extern int TIMConvGetConvList(CommCallback cb, IntPtr userData);
    [DllImport(Lib)] public static extern int TIMConvSetDraft(byte[] convId, int convType, byte[] jsonDraftParam);
    [DllImport(Lib)] public static extern int TIMConvCancelDraft(byte[] convId, int convType);
    [DllImport(Lib)] public static extern int TIMConvPinConversation(byte[] convId, int convType, bool isPinned, CommCallback cb, IntPtr userData);
    [DllImport(Lib)] public static extern int TIMConvGetTotalUnreadMessageCount(CommCallback cb, IntPtr userData);
    [DllImport(Lib)] public static extern int callExperimentalAPI(byte[] jsonParam, CommCallback cb, IntPtr userData);
    [DllImport(Lib)] public static extern IntPtr TIMGetSDKVersion();
    [DllImport(Lib)] public static extern int TIMSetConfig(byte[] jsonConfig, CommCallback cb, IntPtr userData);

    public const int C2C = 1;

    // A NUL-terminated UTF-8 C string.
    public static byte[] C(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        byte[] c = new byte[bytes.Length + 1];
        Array.Copy(bytes, c, bytes.Length);
        return c;
    }

    public static string FromC(IntPtr ptr)
    {
        if (ptr == IntPtr.Zero) return null;
        int n = 0;
        while (Marshal.ReadByte(ptr, n) != 0) n++;
        byte[] bytes = new byte[n];
        Marshal.Copy(ptr, bytes, 0, n);
        return Encoding.UTF8.GetString(bytes);
    }

    public static string FromBuffer(byte[] buffer)
    {
        int n = Array.IndexOf(buffer, (byte)0);
        return Encoding.UTF8.GetString(buffer, 0, n < 0 ? buffer.Length : n);
    }
}

// One awaited TIMCommCallback; the delegate stays referenced until it has been called.
class Call
{
    readonly ManualResetEventSlim done = new ManualResetEventSlim(false);
    public int Code;
    public string Json;
    public IntPtr UserData;
    public readonly Tim.CommCallback Callback;

    public Call()
    {
        Callback = (code, desc, json, userData) =>
        {
            Code = code;
            Json = Tim.FromC(json);
            UserData = userData;
            done.Set();
        };
    }

    public string Wait(string what, int rc)
    {
        Check(rc == 0, what + " returned " + rc);
        Check(done.Wait(20000), "timed out waiting for " + what);
        Check(Code == 0, what + ": code " + Code + " " + Json);
        GC.KeepAlive(Callback);
        return Json;
    }

    public static void Check(bool ok, string what)
    {
        if (!ok)
        {
            Console.Error.WriteLine("check failed: " + what);
            Environment.Exit(1);
        }
    }
}

static class Seed
{
    static readonly IntPtr Marker = new IntPtr(0x5eed);
    static readonly ManualResetEventSlim Received = new ManualResetEventSlim(false);
    static string receivedJson;
    static bool markerOk = true;
    static Tim.RecvNewMsgCallback onMessage;

    static void Login(string user, string sig)
    {
        var call = new Call();
        call.Wait("TIMLogin", Tim.TIMLogin(Tim.C(user), Tim.C(sig), call.Callback, Marker));
        Call.Check(call.UserData == Marker, "user_data handed back untouched");
        byte[] buffer = new byte[128];
        Call.Check(Tim.TIMGetLoginUserID(buffer) == 0, "TIMGetLoginUserID");
        Call.Check(Tim.FromBuffer(buffer) == user, "logged-in user id");
    }

    static string ConvList()
    {
        var call = new Call();
        return call.Wait("TIMConvGetConvList", Tim.TIMConvGetConvList(call.Callback, IntPtr.Zero));
    }

    static void Bob(string sig)
    {
        onMessage = (json, userData) =>
        {
            string text = Tim.FromC(json);
            if (userData != Marker) markerOk = false;
            if (text.Contains("hello from C#"))
            {
                receivedJson = text;
                Received.Set();
            }
        };
        Tim.TIMAddRecvNewMsgCallback(onMessage, Marker);
        Login("bob", sig);
        Console.WriteLine("ready");
        Console.Out.Flush();
        Call.Check(Received.Wait(20000), "the new message");
        Call.Check(markerOk, "user_data of the receive callback");
        Call.Check(receivedJson.Contains("\"message_sender\":\"alice\""), "sender");
        Call.Check(ConvList().Contains("\"conv_id\":\"alice\""), "conversation with alice");
        Tim.TIMRemoveRecvNewMsgCallback(onMessage);
        Console.WriteLine("bob got: hello from C#");
    }

    static void Alice(string sig)
    {
        Login("alice", sig);
        string message = "{\"message_elem_array\": [{\"elem_type\": 0, \"text_elem_content\": \"hello from C#\"}]}";
        byte[] messageId = new byte[128];
        var send = new Call();
        string sent = send.Wait("TIMMsgSendMessage",
            Tim.TIMMsgSendMessage(Tim.C("bob"), Tim.C2C, Tim.C(message), messageId, send.Callback, IntPtr.Zero));
        Call.Check(Tim.FromBuffer(messageId).Length > 0 && sent.Contains(Tim.FromBuffer(messageId)), "message id");
        Call.Check(ConvList().Contains("\"conv_id\":\"bob\""), "conversation with bob");

        string draft = "{\"draft_msg\": " + message.Replace("hello from C#", "unsent") + "}";
        Call.Check(Tim.TIMConvSetDraft(Tim.C("bob"), Tim.C2C, Tim.C(draft)) == 0, "TIMConvSetDraft");
        Call.Check(ConvList().Contains("\"conv_is_has_draft\":true"), "draft set");
        Call.Check(Tim.TIMConvCancelDraft(Tim.C("bob"), Tim.C2C) == 0, "TIMConvCancelDraft");
        Call.Check(ConvList().Contains("\"conv_is_has_draft\":false"), "draft cancelled");

        var pin = new Call();
        pin.Wait("TIMConvPinConversation", Tim.TIMConvPinConversation(Tim.C("bob"), Tim.C2C, true, pin.Callback, IntPtr.Zero));
        Call.Check(ConvList().Contains("\"conv_is_pinned\":true"), "pinned");
        var total = new Call();
        string count = total.Wait("TIMConvGetTotalUnreadMessageCount",
            Tim.TIMConvGetTotalUnreadMessageCount(total.Callback, IntPtr.Zero));
        Call.Check(count.Contains("conv_get_total_unread_message_count_result_unread_count"), "total unread");
        Console.WriteLine("alice done");
    }

    static int Main(string[] args)
    {
        Call.Check(args.Length == 3, "usage: seed.exe bob|alice CONFIG_DIR SIG");
        // What Tencent's Unity wrapper does in its Init, before TIMInit: the UI platform, the version.
        var platform = new Call();
        string answer = platform.Wait("callExperimentalAPI", Tim.callExperimentalAPI(Tim.C(
            "{\"request_internal_operation\": \"internal_operation_set_ui_platform\", \"request_set_ui_platform_param\": 5}"),
            platform.Callback, Marker));
        Call.Check(answer.Contains("\"response_internal_operation\":\"internal_operation_set_ui_platform\""), "platform answer");
        Call.Check(platform.UserData == Marker, "user_data of callExperimentalAPI");
        Call.Check(Tim.FromC(Tim.TIMGetSDKVersion()).Length > 0, "TIMGetSDKVersion");
        string config = "{\"sdk_config_config_file_path\": \"" + args[1] + "\"}";
        Call.Check(Tim.TIMInit(1400000000, Tim.C(config)) == 0, "TIMInit");
        var setConfig = new Call();
        setConfig.Wait("TIMSetConfig", Tim.TIMSetConfig(Tim.C("{\"set_config_callback_log_level\": 5}"), setConfig.Callback, IntPtr.Zero));
        if (args[0] == "bob") Bob(args[2]); else Alice(args[2]);
        Call.Check(Tim.TIMUninit() == 0, "TIMUninit");
        return 0;
    }
}

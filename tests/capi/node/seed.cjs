// The seed scenarios from Node through koffi, against libImSDK (its path in OPENTIM_LIBIMSDK).
// No server address in the code: it comes from OPENTIM_SERVER_URL or opentim.json.
//
//   node seed.cjs bob CONFIG_DIR SIG     logs in, prints "ready", waits for alice's message
//   node seed.cjs alice CONFIG_DIR SIG   sends bob a message, lists, drafts, pins, counts unread
// Both start as the Electron SDK's apps do: callExperimentalAPI before TIMInit, TIMGetSDKVersion,
// TIMSetConfig after it.
'use strict';
const assert = require('node:assert/strict');
const koffi = require('koffi');

const lib = koffi.load(process.env.OPENTIM_LIBIMSDK);
const TIMCommCallback = koffi.proto(
  'void TIMCommCallback(int32_t code, const char* desc, const char* json_params, const void* user_data)');
const TIMRecvNewMsgCallback = koffi.proto(
  'void TIMRecvNewMsgCallback(const char* json_msg_array, const void* user_data)');
const api = {
  TIMInit: lib.func('int TIMInit(uint64_t sdk_app_id, const char* json_sdk_config)'),
  TIMUninit: lib.func('int TIMUninit(void)'),
  TIMLogin: lib.func('int TIMLogin(const char* user_id, const char* user_sig, TIMCommCallback* cb, const void* user_data)'),
  TIMGetLoginUserID: lib.func('int TIMGetLoginUserID(_Out_ char* user_id_buffer)'),
  TIMAddRecvNewMsgCallback: lib.func('void TIMAddRecvNewMsgCallback(TIMRecvNewMsgCallback* cb, const void* user_data)'),
  TIMRemoveRecvNewMsgCallback: lib.func('void TIMRemoveRecvNewMsgCallback(TIMRecvNewMsgCallback* cb)'),
  TIMMsgSendMessage: lib.func('int TIMMsgSendMessage(const char* conv_id, int conv_type, const char* json_msg_param, _Out_ char* message_id_buffer, TIMCommCallback* cb, const void* user_data)'),
  TIMConvGetConvList: lib.func('int TIMConvGetConvList(TIMCommCallback* cb, const void* user_data)'),
  TIMConvSetDraft: lib.func('int TIMConvSetDraft(const char* conv_id, int conv_type, const char* json_draft_param)'),
  TIMConvCancelDraft: lib.func('int TIMConvCancelDraft(const char* conv_id, int conv_type)'),
  TIMConvPinConversation: lib.func('int TIMConvPinConversation(const char* conv_id, int conv_type, bool is_pinned, TIMCommCallback* cb, const void* user_data)'),
  TIMConvGetTotalUnreadMessageCount: lib.func('int TIMConvGetTotalUnreadMessageCount(TIMCommCallback* cb, const void* user_data)'),
  callExperimentalAPI: lib.func('int callExperimentalAPI(const char* json_param, TIMCommCallback* cb, const void* user_data)'),
  TIMGetSDKVersion: lib.func('const char* TIMGetSDKVersion(void)'),
  TIMSetConfig: lib.func('int TIMSetConfig(const char* json_config, TIMCommCallback* cb, const void* user_data)'),
  TIMMsgSendNewMsg: lib.func('int TIMMsgSendNewMsg(const char* conv_id, int conv_type, const char* json_msg_param, TIMCommCallback* cb, const void* user_data)'),
};
const C2C = 1;
const TEXT_MESSAGE = (text) => JSON.stringify({message_elem_array: [{elem_type: 0, text_elem_content: text}]});

// Call a function whose last two parameters are (TIMCommCallback cb, const void* user_data):
// resolves with the callback's JSON when its code is 0.
function call(name, ...args) {
  return new Promise((resolve, reject) => {
    let cb = null;
    cb = koffi.register((code, desc, json, userData) => {
      setImmediate(() => koffi.unregister(cb));
      if (code === 0) resolve(json ? JSON.parse(json) : null);
      else reject(new Error(`${name}: ${code} ${desc}`));
    }, koffi.pointer(TIMCommCallback));
    const rc = api[name](...args, cb, null);
    if (rc !== 0) {
      koffi.unregister(cb);
      reject(new Error(`${name} returned ${rc}`));
    }
  });
}

async function login(user, sig) {
  await call('TIMLogin', user, sig);
  const buffer = Buffer.alloc(128);
  assert.equal(api.TIMGetLoginUserID(buffer), 0);
  assert.equal(buffer.toString('utf8', 0, buffer.indexOf(0)), user);
}

async function bob(sig) {
  let received;
  const got = new Promise((resolve) => { received = resolve; });
  const onMessage = koffi.register((json) => {
    const msgs = JSON.parse(json);
    if (msgs.some((m) => m.message_elem_array[0].text_elem_content === 'hello from Node')) received(msgs);
  }, koffi.pointer(TIMRecvNewMsgCallback));
  api.TIMAddRecvNewMsgCallback(onMessage, null);
  await login('bob', sig);
  console.log('ready');
  const msgs = await got;
  assert.equal(msgs[0].message_sender, 'alice');
  const convs = await call('TIMConvGetConvList');
  assert.ok(convs.some((c) => c.conv_id === 'alice'));
  api.TIMRemoveRecvNewMsgCallback(onMessage);
  koffi.unregister(onMessage);
  console.log('bob got: ' + msgs[0].message_elem_array[0].text_elem_content);
}

async function alice(sig) {
  await login('alice', sig);
  // The older send name first: bob waits for the last message, so none comes after it.
  const older = await call('TIMMsgSendNewMsg', 'bob', C2C, TEXT_MESSAGE('the older send'));
  const messageId = Buffer.alloc(128);
  const sent = await call('TIMMsgSendMessage', 'bob', C2C, TEXT_MESSAGE('hello from Node'), messageId);
  assert.equal(sent.message_msg_id, messageId.toString('utf8', 0, messageId.indexOf(0)));
  assert.notEqual(older.message_msg_id, sent.message_msg_id);
  let convs = await call('TIMConvGetConvList');
  assert.ok(convs.some((c) => c.conv_id === 'bob'));
  assert.equal(api.TIMConvSetDraft('bob', C2C, JSON.stringify({draft_msg: JSON.parse(TEXT_MESSAGE('unsent'))})), 0);
  convs = await call('TIMConvGetConvList');
  assert.equal(convs.find((c) => c.conv_id === 'bob').conv_is_has_draft, true);
  assert.equal(api.TIMConvCancelDraft('bob', C2C), 0);
  await call('TIMConvPinConversation', 'bob', C2C, true);
  convs = await call('TIMConvGetConvList');
  const conv = convs.find((c) => c.conv_id === 'bob');
  assert.equal(conv.conv_is_has_draft, false);
  assert.equal(conv.conv_is_pinned, true);
  const total = await call('TIMConvGetTotalUnreadMessageCount');
  assert.equal(typeof total.conv_get_total_unread_message_count_result_unread_count, 'number');
  console.log('alice done');
}

async function main() {
  const [role, configDir, sig] = process.argv.slice(2);
  // What the Electron SDK's apps do first: an experimental request before TIMInit, the version.
  const platform = await call('callExperimentalAPI', JSON.stringify({
    request_internal_operation: 'internal_operation_set_ui_platform',
    request_set_ui_platform_param: 27,
  }));
  assert.equal(platform.response_internal_operation, 'internal_operation_set_ui_platform');
  assert.match(api.TIMGetSDKVersion(), /^\d+\.\d+/);
  assert.equal(api.TIMInit(1400000000, JSON.stringify({sdk_config_config_file_path: configDir})), 0);
  assert.equal(await call('TIMSetConfig', JSON.stringify({set_config_log_level: 5})), null);
  await (role === 'bob' ? bob(sig) : alice(sig));
  assert.equal(api.TIMUninit(), 0);
}

// Callbacks come from the SDK thread, which Node does not count as pending work: keep the event
// loop alive until main() settles, with a deadline.
let finished = false;
const deadline = setTimeout(() => {
  console.error('timed out');
  process.exit(1);
}, 30000);
main().then(() => {
  finished = true;
}, (err) => {
  console.error(err);
  process.exitCode = 1;
}).finally(() => clearTimeout(deadline));
process.on('exit', (code) => {
  if (code === 0 && !finished) {
    console.error('exited before finishing');
    process.exitCode = 1;
  }
});

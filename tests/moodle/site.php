<?php
// PLC Bridge's tests make Moodle's people, courses and enrolments with this script: Moodle has no core CLI for
// them. It reads a JSON list of commands on standard input and prints the JSON list of their answers; the Moodle folder comes from the
// environment (PLC_MOODLE_ROOT) with the rest of the site's settings (see config.php beside this file).
define('CLI_SCRIPT', true);
require(getenv('PLC_MOODLE_ROOT') . '/config.php');
require_once($CFG->dirroot . '/course/lib.php');
require_once($CFG->dirroot . '/user/lib.php');
require_once($CFG->dirroot . '/lib/enrollib.php');
require_once($CFG->dirroot . '/mod/lti/locallib.php');

$commands = json_decode(stream_get_contents(STDIN), true, 16, JSON_THROW_ON_ERROR);
\core\session\manager::set_user(get_admin());

function plc_user_id(string $username): int {
    global $DB, $CFG;
    return (int) $DB->get_field('user', 'id', ['username' => $username, 'mnethostid' => $CFG->mnet_localhost_id],
        MUST_EXIST);
}

function plc_course_id(string $shortname): int {
    global $DB;
    return (int) $DB->get_field('course', 'id', ['shortname' => $shortname], MUST_EXIST);
}

function plc_run(array $command) {
    global $DB, $CFG;
    switch ($command['action']) {
        case 'user':
            $id = user_create_user((object) [
                'username' => $command['username'],
                'password' => $command['password'],
                'firstname' => $command['firstname'],
                'lastname' => $command['lastname'],
                'email' => $command['email'],
                'lang' => $command['lang'] ?? 'en',
                'auth' => 'manual',
                'confirmed' => 1,
                'mnethostid' => $CFG->mnet_localhost_id,
            ]);
            return ['id' => (int) $id];
        case 'course':
            $course = create_course((object) [
                'fullname' => $command['fullname'],
                'shortname' => $command['shortname'],
                'category' => 1,
                'format' => 'topics',
                'numsections' => 1,
            ]);
            return ['id' => (int) $course->id];
        case 'enrol':
            $course = plc_course_id($command['course']);
            $role = $DB->get_field('role', 'id', ['shortname' => $command['role']], MUST_EXIST);
            if (!enrol_try_internal_enrol($course, plc_user_id($command['username']), $role)) {
                throw new moodle_exception('manual enrolment is not enabled');
            }
            return ['ok' => true];
        case 'suspend':
            // What "Edit enrolment → Suspended" does in the course's participants page.
            $course = plc_course_id($command['course']);
            $instance = $DB->get_record('enrol', ['courseid' => $course, 'enrol' => 'manual'], '*', MUST_EXIST);
            enrol_get_plugin('manual')->update_user_enrol($instance, plc_user_id($command['username']),
                ENROL_USER_SUSPENDED);
            return ['ok' => true];
        case 'tool_types':
            return array_values(array_map(fn($type) => [
                'id' => (int) $type->id, 'name' => $type->name, 'state' => (int) $type->state,
                'coursevisible' => (int) $type->coursevisible, 'clientid' => $type->clientid,
                'baseurl' => $type->baseurl,
            ], $DB->get_records('lti_types', null, 'id')));
        case 'launch_container':
            // An activity's own "Launch container" (LTI_LAUNCH_CONTAINER_*): Moodle 4.3 and later keep it but no longer
            // show it in the activity's form (new activities take the tool's default), as activities from older sites do.
            $instance = $DB->get_field('course_modules', 'instance', ['id' => $command['cmid']], MUST_EXIST);
            $DB->set_field('lti', 'launchcontainer', (int) $command['container'], ['id' => $instance]);
            return ['ok' => true];
        default:
            throw new coding_exception('unknown action ' . $command['action']);
    }
}

echo json_encode(array_map('plc_run', $commands)), "\n";
